"""One benchmark run: raw loop, seed-style, `fruit-pipeline run` (local disk and SeaweedFS S3) and the peers (Ray Data,
Daft) on the same generated bank, plus a scaling table; writes benchmarks/results/latest.json and latest.png.

    python -m benchmarks.run --images 20000 --cores 2 --scaling 5000,20000,50000,100000
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks import report
from benchmarks.peers import NO_TELEMETRY
from benchmarks.proctree import run_sampled
from benchmarks.results import rate, summary

ROOT = pathlib.Path(__file__).resolve().parents[1]
PY = sys.executable
CLASSES = 10
# leg name -> module of the peer legs (same bank, same per-image work, Parquet out); `--no-peers` skips them
PEERS = {"peer_ray_data": "benchmarks.peer_ray", "peer_daft": "benchmarks.peer_daft"}
PEER_PACKAGES = {"peer_ray_data": "ray", "peer_daft": "daft"}  # what each needs, from the `bench` extra


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    """nproc, CPU model, memory and load, so numbers can be read in context."""
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_kb = 0
    try:
        mem_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model or platform.processor(),
            "memory_gb": round(mem_kb / 2**20, 1), "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def _cli(*args: str) -> list[str]:
    return [PY, "-m", "fruit_pipeline", *args]


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        tail = (result.stderr or "").strip().splitlines()[-5:]
        raise SystemExit(f"bench: {what} failed (exit {result.returncode}): {' | '.join(tail)}")


def bank_plan(images: int) -> tuple[str, int]:
    """(folder name, images per class) of the generated bank holding at least `images` images in CLASSES classes."""
    per_class = math.ceil(images / CLASSES)
    return f"bank-{CLASSES * per_class}", per_class


def make_bank(root: pathlib.Path, images: int, workers: int) -> pathlib.Path:
    """The generated bank of `images` images (10 classes), kept under root and reused by later runs."""
    name, per_class = bank_plan(images)
    bank = root / name
    done_marker = root / f"{bank.name}.complete"  # beside the bank, so it is neither listed nor uploaded
    if done_marker.exists():
        return bank
    shutil.rmtree(bank, ignore_errors=True)
    log(f"generating {CLASSES * per_class} images in {bank}")
    start = time.perf_counter()
    done = subprocess.run(_cli("-q", "sample", "--out", str(bank), "--classes", str(CLASSES), "--per-class",
                               str(per_class), "--workers", str(workers)), capture_output=True, text=True)
    _check(done, "sample")
    log(f"generated in {time.perf_counter() - start:.0f} s")
    done_marker.write_text("")
    return bank


def subset(bank: pathlib.Path, images: int, root: pathlib.Path) -> pathlib.Path:
    """`images` images spread evenly over `bank` (same class/split mix), as hard links under root."""
    files = sorted(bank.rglob("*.jpg"))
    if images >= len(files):
        return bank
    out = root / f"{bank.name}-subset-{images}"
    done_marker = root / f"{out.name}.complete"
    if done_marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    step = len(files) / images
    for i in range(images):
        src = files[int(i * step)]
        dst = out / src.relative_to(bank)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)
    done_marker.write_text("")
    return out


def warm_page_cache(bank: pathlib.Path) -> tuple[int, int]:
    """Read every image once so that no leg, the raw loop first of all, pays for cold disk reads; (images, bytes)."""
    sizes = [len(path.read_bytes()) for path in bank.rglob("*.jpg")]
    return len(sizes), sum(sizes)


def leg_raw(bank: pathlib.Path, limit: int) -> dict:
    log(f"raw: single process, {limit or 'all'} images")
    result, tree, wall = run_sampled([PY, "-m", "benchmarks.raw", str(bank), "--limit", str(limit)], cwd=ROOT)
    _check(result, "raw loop")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out.update(tree.as_dict(), process_wall_s=round(wall, 2),
               cpu_ms_per_image=round(1000 * tree.cpu_s / max(out["images"], 1), 2))
    log(f"raw: {out['images_per_s']} images/s per core")
    return out


def leg_seed(bank: pathlib.Path, out_dir: pathlib.Path, cores: int, limit: int) -> dict:
    log(f"seed-style: local[{cores}], {limit} images")
    cmd = [PY, "-m", "benchmarks.seed_style", "--input", str(bank), "--output", str(out_dir / "seed"),
           "--master", f"local[{cores}]", "--limit", str(limit)]
    result, tree, wall = run_sampled(cmd, cwd=ROOT)
    _check(result, "seed-style job")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out.update(tree.as_dict(), process_wall_s=round(wall, 2), limited_to=limit,
               cpu_ms_per_image=round(1000 * tree.cpu_s / max(out["images"], 1), 2))
    log(f"seed-style: {out['images_per_s']} images/s")
    return out


def leg_ours(name: str, input_uri: str, output: pathlib.Path, cores: int, extra: list[str],
             env: dict | None = None) -> dict:
    """`fruit-pipeline run`; images/s from its manifest (session up -> manifest), process wall beside it."""
    log(f"ours/{name}: local[{cores}] {input_uri}")
    cmd = _cli("-q", "run", "--input", input_uri, "--output", str(output), "--master", f"local[{cores}]", *extra)
    result, tree, wall = run_sampled(cmd, cwd=ROOT, env={**os.environ, **(env or {})})
    _check(result, f"fruit-pipeline run ({name})")
    manifest = json.loads((output / "manifest.json").read_text())
    images = manifest["counts"]["input_files"]
    out = {"images": images, "seconds": manifest["wall_time_s"], "images_per_s": manifest["images_per_s"],
           "durations_s": manifest["durations_s"], "process_wall_s": round(wall, 2),
           "images_per_s_incl_startup": round(rate(images, wall), 1), "args": extra, **tree.as_dict(),
           "cpu_ms_per_image": round(1000 * tree.cpu_s / max(images, 1), 2)}
    log(f"ours/{name}: {out['images_per_s']} images/s (in-job), peak RSS {out['peak_rss_mb']} MB")
    shutil.rmtree(output, ignore_errors=True)
    return out


def missing_peer_packages(find=importlib.util.find_spec) -> list[str]:
    """The peers' packages that are not importable here (checked before any leg runs)."""
    return [package for package in PEER_PACKAGES.values() if find(package) is None]


def check_rows(counted: int, expected: int, what: str) -> None:
    """A leg must write one row per image of the bank; exit 1 with both counts otherwise."""
    if counted != expected:
        raise SystemExit(f"bench: {what} wrote {counted} rows for {expected} images")


def leg_peer(name: str, bank: pathlib.Path, work: pathlib.Path, cores: int, images: int) -> dict:
    """One peer (PEERS[name]) in its own process tree; rows counted from its Parquet, then the Parquet removed."""
    log(f"{name}: {cores} CPUs, {images} images")
    out_dir = work / f"out-{name}"
    cmd = [PY, "-m", PEERS[name], str(bank), str(out_dir), "--cores", str(cores)]
    result, tree, wall = run_sampled(cmd, cwd=ROOT, env={**os.environ, **NO_TELEMETRY})
    _check(result, name)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    check_rows(out["images"], images, name)
    out.update(tree.as_dict(), process_wall_s=round(wall, 2),
               images_per_s_incl_startup=round(rate(out["images"], wall), 1),
               cpu_ms_per_image=round(1000 * tree.cpu_s / max(out["images"], 1), 2))
    log(f"{name}: {out['images_per_s']} images/s ({out['engine']} {out['version']}), peak RSS {out['peak_rss_mb']} MB")
    shutil.rmtree(out_dir, ignore_errors=True)
    return out


def leg_s3(bank: pathlib.Path, work: pathlib.Path, cores: int) -> dict:
    """Same bank uploaded to a local SeaweedFS; `run --no-reduction` reads s3a:// and writes local disk."""
    sys.path.insert(0, str(ROOT))
    from fruit_pipeline.cloud.s3_upload import upload
    from tests.infra.seaweed import running_weed

    root = work / "seaweedfs"
    root.mkdir()
    with running_weed(root) as server:
        server.client().create_bucket(Bucket="bench")
        log("s3: uploading the bank to SeaweedFS")
        start = time.perf_counter()
        uploaded, _ = upload(bank, "s3a://bench/bank", workers=16, client=server.client())
        upload_s = time.perf_counter() - start
        toml = work / "s3.toml"
        toml.write_text("[s3]\npath_style = true\n")
        out = leg_ours("s3a", "s3a://bench/bank", work / "out-s3", cores,
                       ["--no-reduction", "--config", str(toml)], env=server.env())
    out.update(upload_s=round(upload_s, 1), uploaded=uploaded, output="local disk")
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000, help="bank size for the side-by-side legs (default 20000)")
    parser.add_argument("--cores", type=int, default=2, help="N of local[N] (default 2)")
    parser.add_argument("--seed-images", type=int, default=0,
                        help="cap for the seed-style leg (default 0: the whole bank, like the other legs)")
    parser.add_argument("--raw-images", type=int, default=0, help="cap for the raw loop (default: whole bank)")
    parser.add_argument("--scaling", default="5000,20000,50000,100000",
                        help="bank sizes for the scaling table ('' = none)")
    parser.add_argument("--no-s3", action="store_true", help="skip the SeaweedFS leg")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the Ray Data and Daft legs (they need `pip install -e '.[bench]'`)")
    parser.add_argument("--no-full", action="store_true", help="skip the full run (reduction + evaluation)")
    parser.add_argument("--no-full-largest", action="store_true",
                        help="skip the full run on the largest scaling bank (compared with the extraction-only run "
                             "on that bank)")
    parser.add_argument("--work", type=pathlib.Path, default=ROOT / ".cache" / "bench", help="banks and scratch")
    parser.add_argument("--results", type=pathlib.Path, default=ROOT / "benchmarks" / "results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = [] if args.no_peers else missing_peer_packages()
    if missing:
        print(f"bench: the peer legs need {', '.join(missing)}: pip install -e '.[bench]' (or pass --no-peers)",
              file=sys.stderr)
        return 2

    sizes = [int(s) for s in args.scaling.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    info = machine()
    log(f"machine: {info['nproc']} x {info['cpu_model']}, load {info['loadavg_start']}")
    big = make_bank(args.work, max([args.images, *sizes]), args.cores)
    bank = subset(big, args.images, args.work)
    n, warmed = warm_page_cache(bank)  # the bank's one walk: its image count comes from it
    log(f"page cache warmed with {warmed / 2**20:.0f} MB ({n} images)")
    legs: dict = {}
    with tempfile.TemporaryDirectory(dir=args.work, prefix="run-") as tmp:
        work = pathlib.Path(tmp)
        legs["raw"] = leg_raw(bank, args.raw_images)
        legs["seed_style"] = leg_seed(bank, work, args.cores, min(args.seed_images or n, n))
        legs["ours_extraction"] = leg_ours("extraction", str(bank), work / "out-x", args.cores, ["--no-reduction"])
        if not args.no_full:
            legs["ours_full"] = leg_ours("full", str(bank), work / "out-full", args.cores, [])
        if not args.no_s3:
            legs["ours_s3a_extraction"] = leg_s3(bank, work, args.cores)
        for name in () if args.no_peers else PEERS:
            legs[name] = leg_peer(name, bank, work, args.cores, n)
        scaling = []
        for size in sizes:
            sub = subset(big, size, args.work)
            leg = leg_ours(f"scaling-{size}", str(sub), work / f"out-{size}", args.cores, ["--no-reduction"])
            scaling.append({key: leg[key] for key in ("images", "images_per_s", "cpu_s", "peak_rss_mb",
                                                      "peak_rss_mb_by_role", "peak_anon_mb", "peak_anon_mb_by_role")})
        if sizes and not (args.no_full or args.no_full_largest):
            largest = max(sizes)
            legs["ours_full_largest"] = leg_ours(f"full-{largest}", str(subset(big, largest, args.work)),
                                                 work / f"out-full-{largest}", args.cores, [])
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    ours = legs["ours_extraction"]
    record = summary(n, args.cores, legs["raw"]["images_per_s"], legs["seed_style"]["images_per_s"],
                     ours["images_per_s"], ours["peak_rss_mb"])
    record.update(report.extra_fields(legs, scaling, info, args.cores))
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    report.plot(record, args.results / "latest.png")
    print(report.text(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
