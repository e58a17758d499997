"""Run the pipeline in-process on the shared SparkSession and read its outputs back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from fruit_pipeline import pipeline
from fruit_pipeline.config import build_config


def run(spark, bank: Path, out: Path, **sections: Any) -> dict:
    overrides = {"input": str(bank), "output": str(out), "spark": {"master": "local[2]"}, **sections}
    return pipeline.run(build_config(None, overrides), spark)


def features(out: Path) -> list[dict]:
    return sorted(pq.read_table(out / "features").to_pylist(), key=lambda r: r["path"])


def errors(out: Path) -> list[dict]:
    return sorted(pq.read_table(out / "errors").to_pylist(), key=lambda r: r["path"])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())
