"""Peer leg: Ray Data (read_binary_files + map_batches + write_parquet) with the job's per-image work.

    python -m benchmarks.peer_ray BANK OUT --cores 2

Prints one JSON line (benchmarks.peers.peer_result); the rows are counted from the written Parquet.
"""
from __future__ import annotations

import pathlib
import time

from benchmarks import peers
from benchmarks.peers import features, parquet_rows, peer_result, quiet_environment


def _extract(batch):
    """map_batches function: a pyarrow.Table of (bytes, path) -> a pyarrow.Table of features."""
    import pyarrow as pa

    out = features(batch.column("path").to_pylist(), batch.column("bytes").to_pylist())
    return pa.Table.from_batches([out])


def run(bank: pathlib.Path, out: pathlib.Path, cores: int) -> dict:
    """Start a local Ray with `cores` CPUs, extract every *.jpg of bank into Parquet under out, shut Ray down."""
    quiet_environment()
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        startup_s = time.perf_counter() - start
        start = time.perf_counter()
        ds = ray.data.read_binary_files(str(bank), include_paths=True, file_extensions=["jpg"])
        ds.map_batches(_extract, batch_format="pyarrow").write_parquet(str(out))
        seconds = time.perf_counter() - start
    finally:
        ray.shutdown()
    return peer_result(parquet_rows(out), seconds, startup_s, "ray-data", ray.__version__)


if __name__ == "__main__":
    peers.main(__doc__, run, "num_cpus of the local Ray (default 2)")
