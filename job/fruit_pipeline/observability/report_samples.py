"""The few rows the report and the summary show: the first errors, and sample images per class (Spark side)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ..stages.reduction import bank_key

log = logging.getLogger(__name__)
ERRORS_SHOWN = 10
SAMPLES_PER_CLASS = 4
CLASSES_SHOWN = 12


def first_errors(errors: DataFrame, n: int = ERRORS_SHOWN) -> list[dict[str, str]]:
    """The first `n` error rows by path: {path, stage, reason}."""
    rows = errors.select("path", "stage", "reason").orderBy("path").limit(n).collect()
    return [{"path": r["path"], "stage": r["stage"], "reason": r["reason"]} for r in rows]


def _contents(spark: SparkSession, paths: list[str]) -> dict[str, bytes] | None:
    """The bytes of the image files `paths`, read again from the bank; None (with a warning) when they cannot be."""
    try:
        return {r["path"]: bytes(r["content"]) for r in
                spark.read.format("binaryFile").load(paths).select("path", "content").collect()}
    except Exception as exc:  # noqa: BLE001 - the report only loses its sample grid
        log.warning("report: sample images not drawn (%s)", str(exc).strip().splitlines()[0][:200])
        return None


def report_samples(spark: SparkSession, features: DataFrame, seed: int, per_class: int = SAMPLES_PER_CLASS,
                   classes: int = CLASSES_SHOWN) -> list[dict[str, Any]]:
    """Up to `per_class` seed-stable images of each of the first `classes` labels: {label, path, content (bytes),
    keypoints [(x, y, size)]}. Best effort: an image that cannot be read again is left out, with a warning."""
    ranked = (features.select("path", "label")  # keypoints stay out of the shuffle; fetched for the few picked
              .withColumn("h", F.xxhash64(bank_key(), F.lit(seed)))
              .withColumn("n", F.row_number().over(Window.partitionBy("label").orderBy("h", "path")))
              .where(F.col("n") <= per_class).select("label", "n", "path").collect())
    labels = sorted({r["label"] for r in ranked})[:classes]
    chosen = sorted((r for r in ranked if r["label"] in labels), key=lambda r: (r["label"], r["n"]))
    if not chosen:
        return []
    paths = [r["path"] for r in chosen]
    with ThreadPoolExecutor(max_workers=1) as side:  # the two reads are independent: side by side
        reading = side.submit(_contents, spark, paths)
        keypoints = {r["path"]: r["keypoints"] for r in
                     features.where(F.col("path").isin(paths)).select("path", "keypoints").collect()}
        contents = reading.result()
    if contents is None:
        return []
    rows = [{"label": r["label"], "path": r["path"], "keypoints": keypoints.get(r["path"])} for r in chosen]
    return [{"label": r["label"], "path": r["path"], "content": contents[r["path"]],
             "keypoints": [(k["x"], k["y"], k["size"]) for k in r["keypoints"] or []]}
            for r in rows if r["path"] in contents]
