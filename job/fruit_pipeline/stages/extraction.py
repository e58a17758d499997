"""Decode + ORB + colour histogram for every image, as Arrow-batched Python (`mapInArrow`)."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from ..config import ExtractionConfig
from ..imaging.batch import extract_batch, output_schema


def spark_schema(cfg: ExtractionConfig) -> StructType:
    return from_arrow_schema(output_schema(cfg))


def _extract_partition(cfg: ExtractionConfig, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Runs in the Python worker: one ORB detector for the whole partition."""
    import cv2

    from ..imaging import orb

    cv2.setNumThreads(1)
    detector = orb.make_detector(cfg.orb)
    for batch in batches:
        paths = batch.column(0).to_pylist()
        contents = batch.column(1).to_pylist()
        yield extract_batch(paths, contents, cfg, detector)


def extract(bank: DataFrame, cfg: ExtractionConfig) -> DataFrame:
    """One row per readable image file of the binaryFile DataFrame `bank`: features, or an error."""
    files = bank.where(F.col("length") <= F.lit(cfg.max_file_bytes)).select("path", "content")
    return files.mapInArrow(partial(_extract_partition, cfg), spark_schema(cfg))


def feature_rows(extracted: DataFrame) -> DataFrame:
    return extracted.where(F.col("error_stage").isNull()).drop("error_stage", "error_reason")


def error_rows(extracted: DataFrame) -> DataFrame:
    return extracted.where(F.col("error_stage").isNotNull()).select(
        "path", "label", "split", "file_bytes",
        F.col("error_stage").alias("stage"), F.col("error_reason").alias("reason"))
