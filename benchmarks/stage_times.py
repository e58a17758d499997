"""Per-stage timings from a Spark event log (`spark.eventLog.enabled`): where a run spends its time."""
from __future__ import annotations

import argparse
import json
import pathlib


def stage_rows(events: list[dict]) -> list[dict]:
    """One row per completed stage: id, name, tasks, wall s, executor run s, executor CPU s, JVM GC s."""
    rows = []
    for ev in events:
        if ev.get("Event") != "SparkListenerStageCompleted":
            continue
        info = ev["Stage Info"]
        wall = (info.get("Completion Time", 0) - info.get("Submission Time", 0)) / 1000
        acc = {a["Name"]: a.get("Value", 0) for a in info.get("Accumulables", [])}
        rows.append({"stage": info["Stage ID"], "name": info["Stage Name"].split(" at ")[0][:40],
                     "where": info["Stage Name"].split(" at ")[-1][:40], "tasks": info["Number of Tasks"],
                     "wall_s": round(wall, 2),
                     "run_s": round(float(acc.get("internal.metrics.executorRunTime", 0)) / 1000, 2),
                     "cpu_s": round(float(acc.get("internal.metrics.executorCpuTime", 0)) / 1e9, 2),
                     "gc_s": round(float(acc.get("internal.metrics.jvmGCTime", 0)) / 1000, 2)})
    return rows


def _text(path: pathlib.Path) -> str:
    """A log file's text; `.zstd` files (the job's default codec) through pyarrow's zstd stream decoder."""
    if path.suffix != ".zstd":
        return path.read_text()
    import pyarrow as pa

    with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
        return stream.read().decode("utf-8")


def read_events(path: pathlib.Path) -> list[dict]:
    """Events of one log file, or of a Spark 4 rolling log directory (events_N_* files in order)."""
    files = sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1])) if path.is_dir() else [path]
    return [json.loads(line) for f in files for line in _text(f).splitlines() if line.strip()]


def table(rows: list[dict]) -> str:
    head = f"{'stage':>5} {'tasks':>5} {'wall s':>7} {'run s':>7} {'jvm cpu s':>9}  name @ where"
    lines = [head] + [f"{r['stage']:>5} {r['tasks']:>5} {r['wall_s']:>7.2f} {r['run_s']:>7.2f} {r['cpu_s']:>9.2f}  "
                      f"{r['name']} @ {r['where']}" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("log", type=pathlib.Path, help="an event log file, a Spark 4 rolling log folder, or a folder of logs (the newest is read)")
    args = parser.parse_args()
    path = args.log
    if path.is_dir() and not any(path.glob("events_*")):  # a folder of logs: the newest one
        path = max(path.iterdir(), key=lambda p: p.stat().st_mtime)
    print(table(stage_rows(read_events(path))))


if __name__ == "__main__":
    main()
