"""The few rows the report and the summary show, read from a table: the first errors, the PCA scatter's sample and
sample images per class (the Spark side of `report_digest`)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ..stages.reduction import bank_key
from .report_digest import ERRORS_SHOWN, SAMPLES_PER_CLASS, Picked, Picture, bottom_per_label, shown

log = logging.getLogger(__name__)


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


def _hashed(features: DataFrame, seed: int) -> DataFrame:
    return features.withColumn("h", F.xxhash64(bank_key(), F.lit(seed)))


def scatter_rows(features: DataFrame, points: int, seed: int) -> list[Picked]:
    """The PCA scatter's sample: the `points` rows with the smallest (h, path) (`report_digest.bottom`), with their
    first two components (pc2 0 with one component); empty without reduction."""
    if "features" not in features.columns:
        return []
    picked = (_hashed(features, seed).orderBy("h", "path").limit(points)
              .select("h", "path", "label", F.col("features")[0].alias("pc1"), F.col("features")[1].alias("pc2")))
    return [Picked(int(r["h"]), r["path"], r["label"], float(r["pc1"]), float(r["pc2"] or 0.0))
            for r in picked.collect()]


def ranked_rows(features: DataFrame, seed: int, per_class: int = SAMPLES_PER_CLASS) -> list[Picked]:
    """Per label, the `per_class` rows with the smallest (h, path) (`report_digest.bottom_per_label`), every label."""
    ranked = (_hashed(features.select("path", "label"), seed)  # keypoints stay out of the shuffle
              .withColumn("n", F.row_number().over(Window.partitionBy("label").orderBy("h", "path")))
              .where(F.col("n") <= per_class).select("h", "path", "label").collect())
    return bottom_per_label([Picked(int(r["h"]), r["path"], r["label"]) for r in ranked], per_class)


def pictures(spark: SparkSession, features: DataFrame, paths: list[str]) -> dict[str, Picture]:
    """The pictures of `paths`: keypoints from `features`, bytes read again from the bank, side by side. Best
    effort: a path whose file cannot be read again is left out, with a warning."""
    if not paths:
        return {}
    with ThreadPoolExecutor(max_workers=1) as side:  # the two reads are independent: side by side
        reading = side.submit(_contents, spark, paths)
        keypoints = {r["path"]: r["keypoints"] for r in
                     features.where(F.col("path").isin(paths)).select("path", "keypoints").collect()}
        contents = reading.result()
    if contents is None:
        return {}
    return {path: Picture(contents[path], [(k["x"], k["y"], k["size"]) for k in keypoints[path] or []])
            for path in paths if path in contents and path in keypoints}


def samples_of(spark: SparkSession, features: DataFrame, seed: int) -> tuple[list[Picked], dict[str, Picture]]:
    """(`ranked_rows`, the pictures of its `shown` rows): the report's sample grid read from `features`."""
    ranked = ranked_rows(features, seed)
    return ranked, pictures(spark, features, [row.path for row in shown(ranked)])
