"""Append benchmark (issue 19, acceptance 6): a full `run` on N+M images against an `append` of M new images to a
table of N images; the append should take at most 15 % of the full run. Not a test: run it by hand.

    python -m benchmarks.append --images 20000 --new 1000 [--root .cache/bench-append] [--out FILE]

The bank of N+M images is generated once (10 classes, `fruit-pipeline sample`) and split: every k-th image is held
back as the "new" ones. Steps: (1) `run` on N (overwrite, not timed), (2) the held-back images are hard-linked into
the bank and `run --mode append` is timed, then once more with nothing new (the append's floor), (3) a full `run`
on the same N+M images into another output is timed, (4) the held-back images and M others are removed again and
pruned from the table (not timed) and `run --mode append --watch` is started on it: each time a poll has found
nothing new, files are linked back: the M others in two halves (two increments that warm the session up, as the
earlier increments of a long-running watch do), then the held-back ones: the poll that commits those is the append
under --watch (its time as the watch logs it), again of M images to N. Every increment's time is recorded.
Writes JSON (default benchmarks/results/append-latest.json): the wall times, their ratios to the full run, the
append's manifest counts and stage durations.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Callable

from benchmarks.run import ROOT, _check, _cli, log, machine, make_bank

COMMON = ["--master", "local[*]", "--no-metrics", "--no-event-log"]


def split(bank: pathlib.Path, new: int, root: pathlib.Path) -> tuple[pathlib.Path, list[pathlib.Path]]:
    """A hard-linked copy of `bank` without `new` images spread evenly over it; returns (copy, held-back files)."""
    files = sorted(bank.rglob("*.jpg"))
    step = max(1, len(files) // new)
    held = set(files[::step][:new])
    target = root / "bank"
    shutil.rmtree(target, ignore_errors=True)
    for f in files:
        if f not in held:
            dest = target / f.relative_to(bank)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(f, dest)
    return target, sorted(held)


def timed_run(*args: str) -> tuple[float, dict]:
    """Wall time of one `fruit-pipeline run` and its manifest."""
    start = time.perf_counter()
    done = subprocess.run(_cli("-q", "run", *args, *COMMON), capture_output=True, text=True)
    wall = time.perf_counter() - start
    _check(done, "run " + " ".join(args))
    out = pathlib.Path(args[args.index("--output") + 1])
    return wall, json.loads((out / "manifest.json").read_text())


def link(held: list[pathlib.Path], full_bank: pathlib.Path, bank: pathlib.Path) -> None:
    for f in held:
        dest = bank / f.relative_to(full_bank)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(f, dest)


POLL = re.compile(r"watch: poll \d+ committed increment (\S+) .* in ([\d.]+) s$")


def watched_appends(bank: pathlib.Path, table: pathlib.Path, adds: list[Callable[[], None]],
                    interval_s: float = 5.0) -> list[tuple[float, dict]]:
    """(seconds, manifest) of each `--watch` poll that commits what one of `adds` put into `bank`. Each add is
    called once a poll has found nothing new (so while the watch sleeps); the watch is stopped with SIGTERM after
    the last increment."""
    cmd = _cli("run", "--input", str(bank), "--output", str(table), "--mode", "append", "--watch", str(interval_s),
               *COMMON)
    watcher = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    pending, done = list(adds), []
    try:
        for line in watcher.stderr:
            seen.append(line.rstrip())
            if "watch: nothing new" in line and pending and len(done) == len(adds) - len(pending):
                pending.pop(0)()
            found = POLL.search(line.rstrip())
            if found:
                done.append((float(found.group(2)), json.loads((table / "manifest.json").read_text())))
                if len(done) == len(adds):
                    watcher.send_signal(signal.SIGTERM)
                    watcher.wait(timeout=120)
                    _check(subprocess.CompletedProcess(cmd, watcher.returncode, "", "\n".join(seen)), "run --watch")
                    return done
        raise SystemExit("bench: the watch ended before its increments: " + " | ".join(seen[-5:]))
    finally:
        if watcher.poll() is None:
            watcher.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000, help="images in the table before the append")
    parser.add_argument("--new", type=int, default=1000, help="new images appended")
    parser.add_argument("--root", default=str(ROOT / ".cache" / "bench-append"), help="work folder (banks, outputs)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "append-latest.json"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes generating the bank")
    args = parser.parse_args(argv)
    root = pathlib.Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    full_bank = make_bank(root, args.images + args.new, args.workers)
    bank, held = split(full_bank, args.new, root)
    table, full = root / "out-append", root / "out-full"
    for folder in (table, full):
        shutil.rmtree(folder, ignore_errors=True)
    log(f"initial run on {sum(1 for _ in bank.rglob('*.jpg'))} images (not timed)")
    initial_s, _ = timed_run("--input", str(bank), "--output", str(table))
    link(held, full_bank, bank)
    log(f"append of {len(held)} images")
    append_s, appended = timed_run("--input", str(bank), "--output", str(table), "--mode", "append")
    log("append of nothing new (the floor: start-up, listing and comparison, report, commit)")
    nothing_s, nothing = timed_run("--input", str(bank), "--output", str(table), "--mode", "append")
    log("full run on the same bank")
    full_s, full_manifest = timed_run("--input", str(bank), "--output", str(full))
    log("back to a table without the held-back images and as many others (removed and pruned), then under --watch "
        "the others are added (the first increment, warming the session up) and then the held-back ones")
    others = [f for f in sorted(full_bank.rglob("*.jpg")) if f not in set(held)][1::max(1, args.images // args.new)]
    others = others[:len(held)]
    for f in [*held, *others]:
        (bank / f.relative_to(full_bank)).unlink()
    timed_run("--input", str(bank), "--output", str(table), "--mode", "append", "--prune")
    halves = [others[: len(others) // 2], others[len(others) // 2:]]
    *warming, (warm_s, warm) = watched_appends(bank, table, [lambda: link(halves[0], full_bank, bank),
                                                             lambda: link(halves[1], full_bank, bank),
                                                             lambda: link(held, full_bank, bank)])
    result = {"machine": machine(), "images_before": appended["increment"]["unchanged"], "new": len(held),
              "initial_run_s": round(initial_s, 1), "append_s": round(append_s, 1), "full_run_s": round(full_s, 1),
              "append_over_full": round(append_s / full_s, 3), "target_at_most": 0.15,
              "append_increment": appended["increment"], "append_durations_s": appended["durations_s"],
              "full_durations_s": full_manifest["durations_s"],
              "full_counts": full_manifest["counts"], "append_counts": appended["counts"],
              "append_nothing_new_s": round(nothing_s, 1), "append_nothing_new_over_full": round(nothing_s / full_s, 3),
              "append_nothing_new_durations_s": nothing["durations_s"],
              "watch_warm_up_increments": [{"s": round(t, 1), "new": m["increment"]["new"]} for t, m in warming],
              "watch_append_s": round(warm_s, 1), "watch_append_over_full": round(warm_s / full_s, 3),
              "watch_append_increment": warm["increment"], "watch_append_durations_s": warm["durations_s"]}
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    log(f"append {append_s:.1f} s (under --watch {warm_s:.1f} s) vs full {full_s:.1f} s: "
        f"{100 * append_s / full_s:.1f} % ({100 * warm_s / full_s:.1f} %; target <= 15 %)")
    print(json.dumps({k: result[k] for k in ("append_s", "watch_append_s", "full_run_s", "append_over_full",
                                             "watch_append_over_full")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
