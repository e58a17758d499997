"""What the peer legs (Ray Data, Daft) share: no telemetry, the per-batch work, the row count, the result line."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.results import rate

# Both peers phone home by default; a benchmark never sends anything off the machine.
NO_TELEMETRY = {"RAY_USAGE_STATS_ENABLED": "0", "DAFT_ANALYTICS_ENABLED": "0", "SCARF_NO_ANALYTICS": "true",
                "DO_NOT_TRACK": "1"}


def quiet_environment() -> None:
    """Turn the peers' usage reporting off in this process (call before importing ray or daft)."""
    for key, value in NO_TELEMETRY.items():
        os.environ.setdefault(key, value)


def features(paths: list[str], contents: list[bytes | None]) -> pa.RecordBatch:
    """The job's own per-image work (decode, ORB, colour histogram; error rows, never exceptions), one batch."""
    import cv2

    from fruit_pipeline.config import ExtractionConfig
    from fruit_pipeline.imaging.batch import extract_batch

    cv2.setNumThreads(1)  # as the job's extraction stage: one OpenCV thread per task, the engine parallelises
    return extract_batch(paths, contents, ExtractionConfig())


def parquet_rows(folder: pathlib.Path) -> int:
    """Rows in every *.parquet file under folder, from the footers (no data pages read); 0 if there are none."""
    return sum(pq.read_metadata(path).num_rows for path in sorted(folder.rglob("*.parquet")))


def peer_result(rows: int, seconds: float, startup_s: float, engine: str, version: str) -> dict:
    """The JSON line a peer leg prints: rows counted in its Parquet, seconds from plan to written files."""
    return {"images": rows, "seconds": round(seconds, 3), "images_per_s": round(rate(rows, seconds), 1),
            "startup_s": round(startup_s, 2), "engine": engine, "version": version}


def main(doc: str, run: Callable[[pathlib.Path, pathlib.Path, int], dict], cores_help: str) -> None:
    """A peer leg's command line: BANK OUT [--cores N]; prints `run`'s result as one JSON line."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bank", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--cores", type=int, default=2, help=cores_help)
    args = parser.parse_args()
    print(json.dumps(run(args.bank, args.out, args.cores)))
