"""Peer leg: Daft (from_glob_path + url download + a batch UDF + write_parquet) with the job's per-image work.

    python -m benchmarks.peer_daft BANK OUT --cores 2

Runs on Daft's native (local, multi-threaded) runner with `cores` threads. Prints one JSON line
(benchmarks.peers.peer_result); the rows are counted from the written Parquet.
"""
from __future__ import annotations

import pathlib
import time

from benchmarks import peers
from benchmarks.peers import features, parquet_rows, peer_result, quiet_environment


def _extract_udf():
    """The batch UDF: (path, content) Series -> the job's feature columns, unnested."""
    import daft
    import pyarrow as pa

    from fruit_pipeline.config import ExtractionConfig
    from fruit_pipeline.imaging.batch import output_schema

    struct = daft.DataType.from_arrow_type(pa.struct(list(output_schema(ExtractionConfig()))))

    @daft.func.batch(return_dtype=struct, unnest=True)
    def extract(path: daft.Series, content: daft.Series) -> pa.StructArray:
        out = features(path.to_pylist(), content.to_pylist())
        return pa.StructArray.from_arrays(out.columns, fields=list(out.schema))

    return extract


def run(bank: pathlib.Path, out: pathlib.Path, cores: int) -> dict:
    """Extract every *.jpg under bank into Parquet under out on the native runner with `cores` threads."""
    quiet_environment()
    import daft
    from daft import col

    start = time.perf_counter()
    daft.set_runner_native(num_threads=cores)
    extract = _extract_udf()
    startup_s = time.perf_counter() - start
    start = time.perf_counter()
    files = daft.from_glob_path(f"{bank.resolve()}/**/*.jpg")
    files = files.with_column("content", col("path").download())
    files.select(extract(col("path"), col("content"))).write_parquet(str(out))
    seconds = time.perf_counter() - start
    return peer_result(parquet_rows(out), seconds, startup_s, "daft", daft.__version__)


if __name__ == "__main__":
    peers.main(__doc__, run, "threads of Daft's native runner (default 2)")
