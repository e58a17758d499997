"""The rows of a given set of bank files: feature rows and error rows, each file in exactly one of them.

Both modes use it: the append for each batch of new or changed files, the overwrite run for the few files its
single extraction pass did not turn into feature rows (their error rows, with the reason, come from reading them
again here). Only the listed files are read (each path given literally), never the whole bank filtered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ..config import ExtractionConfig
from . import accounting, extraction, feature_table, fs, listing, reduction


@dataclass
class FileRows:
    """Rows of some files, ready to commit: features (projected when models are given), errors, and their counts.
    `extracted` and `features` are cached until `unpersist`."""

    features: DataFrame
    errors: DataFrame
    extracted: DataFrame
    feature_rows: int
    error_rows: int
    cached: tuple[DataFrame, ...]

    def feature_paths(self) -> set[str]:
        """The paths that gave a feature row (as many as `feature_rows`; read from the cache)."""
        return {r["path"] for r in extraction.feature_rows(self.extracted).select("path").collect()}

    def unpersist(self) -> None:
        for df in self.cached:
            df.unpersist()


BINARY_FILE_SCHEMA = "path string, modificationTime timestamp, length long, content binary"


# Files per task below which a batch of given files is read in fewer tasks than the session's default (at least one
# per core). Measured on 2 cores, an append of 1,000 new files in a warm session: 8 tasks (4 per core, the bank
# scan's default) 2.7 s for the batch's extraction + commit, 2 tasks 1.8 s: per-task costs (a Python worker's
# Arrow stream, the models, a Parquet file per task) outweigh 125 images.
FILES_PER_TASK = 500


def _load(spark: SparkSession, uri: str, paths: list[str]) -> tuple[DataFrame, list[str]]:
    """(binaryFile DataFrame of `paths`, paths that no longer exist). Spark refuses a literal path that is gone, so
    only then is each path checked for existence on the driver. A few files are read in few tasks
    (`FILES_PER_TASK`)."""
    if not paths:
        return spark.createDataFrame([], BINARY_FILE_SCHEMA), []
    reader = listing.image_reader(spark, uri)
    tasks = max(spark.sparkContext.defaultParallelism, math.ceil(len(paths) / FILES_PER_TASK))
    try:
        return reader.load([listing.escape_glob(p) for p in paths]).coalesce(tasks), []
    except AnalysisException:
        present = [p for p in paths if fs.exists(spark, p)]
        gone = sorted(set(paths) - set(present))
        if not present:
            return spark.createDataFrame([], BINARY_FILE_SCHEMA), gone
        return reader.load([listing.escape_glob(p) for p in present]).coalesce(tasks), gone


def no_errors(spark: SparkSession, cfg: ExtractionConfig) -> DataFrame:
    """An empty DataFrame with the errors table's columns (for a bank where every file gave a feature row)."""
    nothing = spark.createDataFrame([], extraction.spark_schema(cfg))
    return feature_table.with_source(extraction.error_rows(nothing), spark.createDataFrame([], BINARY_FILE_SCHEMA))


def _scanned(part: DataFrame) -> set[str]:
    """Paths a scan of `part` returns (0-byte files are left out by every scan); no content is read."""
    return {r["path"] for r in listing.list_images(part).collect()}


def rows_of(spark: SparkSession, uri: str, paths: list[str], cfg: ExtractionConfig,
            models: reduction.Models | None = None, unscanned: set[str] | None = None) -> FileRows:
    """The rows of the bank files `paths` (under the bank `uri`), with source_mtime. `unscanned`: the paths known to
    be 0-byte files (error rows without a read); None: found here. Files removed since they were listed become
    error rows (read, vanished)."""
    part, gone = _load(spark, uri, paths)
    extracted = extraction.extract(part, cfg).persist(StorageLevel.MEMORY_AND_DISK)
    kinds = {bool(r["ok"]): int(r["n"]) for r in  # also fills the cache
             extracted.groupBy(F.col("error_stage").isNull().alias("ok")).agg(F.count("*").alias("n")).collect()}
    features = extraction.feature_rows(extracted)
    errors = extraction.error_rows(extracted)
    error_rows, cached = kinds.get(False, 0), [extracted]
    if unscanned is None:
        unscanned = set(paths) - _scanned(part) if sum(kinds.values()) < len(paths) - len(gone) else set()
    missing = sorted((set(paths) & unscanned) | set(gone))
    scanned = len(paths) - len(missing)
    if missing or sum(kinds.values()) < scanned:  # empty, too large or vanished files: from the listing
        more = accounting.listing_errors(listing.list_images(part), extracted, cfg.max_file_bytes,
                                         accounting.unscanned_rows(spark, missing) if missing else None)
        more = more.persist(StorageLevel.MEMORY_AND_DISK)
        error_rows += more.count()
        cached.append(more)
        errors = errors.unionByName(more)
    if models is not None:
        features = reduction.transform(features, models)
    # cached too: the commit fills it, and an append's report digest reads it again (not the projection)
    features = feature_table.with_source(features, part).persist(StorageLevel.MEMORY_AND_DISK)
    cached.append(features)
    return FileRows(features, feature_table.with_source(errors, part), extracted, kinds.get(True, 0), error_rows,
                    tuple(cached))
