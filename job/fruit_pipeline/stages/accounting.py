"""Make every listed file end in exactly one place: a feature row or an error row."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from .udfs import label_split


def _with_label_split(df: DataFrame) -> DataFrame:
    return df.withColumn("_ls", label_split("path")).select("*", "_ls.label", "_ls.split").drop("_ls")


def unscanned_errors(indexed: DataFrame, listing: DataFrame) -> DataFrame:
    """Files in the index that no scan returns: Spark skips 0-byte files (or one vanished meanwhile)."""
    return indexed.join(listing.select("path"), "path", "left_anti").select(
        "path", F.lit(0).cast("long").alias("file_bytes"), F.lit("decode").alias("stage"),
        F.lit("empty file (0 bytes) or removed while listing").alias("reason"))


def listing_errors(too_large: DataFrame, listing: DataFrame, extracted: DataFrame, max_bytes: int,
                   unscanned: DataFrame | None = None) -> DataFrame:
    """Error rows for files the content scan never returned: empty, too large, or gone before reading."""
    oversize = too_large.select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.concat(F.lit("file too large: "), F.col("length").cast(StringType()),
                 F.lit(f" bytes > max_file_bytes {max_bytes}")).alias("reason"))
    readable = listing.where(F.col("length") <= F.lit(max_bytes))
    vanished = readable.join(extracted.select("path"), "path", "left_anti").select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.lit("file disappeared between listing and reading").alias("reason"))
    both = oversize.unionByName(vanished)
    if unscanned is not None:
        both = both.unionByName(unscanned)
    return _with_label_split(both).select("path", "label", "split", "file_bytes", "stage", "reason")


def count_inputs(listing: DataFrame, extracted: DataFrame, unscanned: DataFrame | None = None) -> int:
    """Distinct files seen by the listing, the content scan or only the file index."""
    paths = listing.select("path").unionByName(extracted.select("path"))
    if unscanned is not None:
        paths = paths.unionByName(unscanned.select("path"))
    return paths.distinct().count()
