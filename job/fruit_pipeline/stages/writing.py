"""Write the outputs. The manifest is the commit marker: removed first, written last."""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from . import fs

MANIFEST = "manifest.json"


def begin_output(spark: SparkSession, output: str) -> None:
    """A rerun first withdraws the old manifest, so a half-written output never looks complete."""
    fs.delete(spark, fs.join(output, MANIFEST), recursive=False)


def models_uri(output: str) -> str:
    return fs.join(output, "models")


def write_features(df: DataFrame, output: str) -> None:
    df.write.mode("overwrite").partitionBy("split").parquet(fs.join(output, "features"))


def write_errors(df: DataFrame, output: str) -> None:
    df.coalesce(1).write.mode("overwrite").parquet(fs.join(output, "errors"))


def write_manifest(spark: SparkSession, output: str, manifest: dict[str, Any]) -> None:
    fs.write_text(spark, fs.join(output, MANIFEST), json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
