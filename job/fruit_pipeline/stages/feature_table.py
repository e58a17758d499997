"""The features and errors Delta tables: per-row source identity, create, MERGE a batch, prune, read.

Every row records where it came from: `path` (as Spark's binaryFile source writes it), `file_bytes` (the size) and
`source_mtime` (the file's modification time: local disk mtime, or on S3 the Hadoop FileStatus modification time,
i.e. the object's Last-Modified). (path, file_bytes, source_mtime) is what an append compares with the bank.
Tables are path-based (`delta.`<uri>``): no catalog. `features` is partitioned by `split` as the Parquet output was.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import fs, increment
from .writing import NO_DICTIONARY_COLUMNS

FEATURES = "features"
ERRORS = "errors"
SOURCE_MTIME = "source_mtime"


def table_uri(output: str, name: str) -> str:
    return fs.join(output, name)


def is_table(spark: SparkSession, uri: str) -> bool:
    """True when `uri` holds a Delta table (its `_delta_log` has a commit)."""
    return fs.exists(spark, fs.join(uri, "_delta_log"))


def with_source(rows: DataFrame, bank: DataFrame) -> DataFrame:
    """`rows` (keyed by `path`) plus `source_mtime` from the binaryFile listing `bank` (no content is read;
    null for a file the scan never returned, e.g. an empty one)."""
    mtimes = bank.select("path", F.col("modificationTime").alias(SOURCE_MTIME))
    return rows.join(F.broadcast(mtimes), "path", "left")


def _writer(df: DataFrame, name: str):
    if name != FEATURES:  # one file; repartition, not coalesce: the scan upstream stays one task per partition
        return df.repartition(1).write.format("delta")
    writer = df.write.format("delta").partitionBy("split")
    for column in NO_DICTIONARY_COLUMNS:
        writer = writer.option(f"parquet.enable.dictionary#{column}", "false")
    return writer


def write(df: DataFrame, output: str, name: str) -> None:
    """Replace (or create) the table `OUTPUT/name` with `df`, schema included: one atomic Delta commit."""
    _writer(df, name).mode("overwrite").option("overwriteSchema", "true").save(table_uri(output, name))


def read(spark: SparkSession, output: str, name: str) -> DataFrame:
    return spark.read.format("delta").load(table_uri(output, name))


def recorded_of(tables: list[DataFrame]) -> increment.Recorded:
    """What the rows of `tables` (features and errors rows) record of each path (`increment.Recorded`): their
    three small columns, grouped by path in one Spark job and brought to the driver through Arrow (about 100 bytes
    per path: 100 MB for 1,000,000 images, the order of the bank's listing that the driver holds anyway)."""
    if not tables:
        return {}
    parts = [t.select("path", "file_bytes", F.unix_millis(F.col(SOURCE_MTIME)).alias("ms")) for t in tables]
    rows = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    grouped = rows.groupBy("path").agg(F.count("*").alias("rows"), F.first("file_bytes").alias("file_bytes"),
                                       F.first("ms").alias("ms"))
    return {r["path"]: (int(r["file_bytes"]), r["ms"], int(r["rows"])) for r in grouped.toArrow().to_pylist()}


def recorded(spark: SparkSession, output: str) -> increment.Recorded:
    """What both tables OUTPUT/features and OUTPUT/errors record of each path (empty when there are none)."""
    return recorded_of([read(spark, output, name) for name in (FEATURES, ERRORS)
                        if is_table(spark, table_uri(output, name))])


def append(spark: SparkSession, output: str, name: str, rows: DataFrame) -> None:
    """One Delta commit adding `rows` to `OUTPUT/name` (a blind insert: the table is not scanned); creates it.
    Only for rows whose paths the table does not hold."""
    uri = table_uri(output, name)
    if is_table(spark, uri):
        rows = _aligned(rows, spark.read.format("delta").load(uri))
    _writer(rows, name).mode("append").save(uri)


def _aligned(df: DataFrame, target: DataFrame) -> DataFrame:
    """`df` with the target's columns, in its order; columns it lacks are typed nulls."""
    have = set(df.columns)
    return df.select(*[F.col(f.name) if f.name in have else F.lit(None).cast(f.dataType).alias(f.name)
                       for f in target.schema.fields])


def merge(spark: SparkSession, output: str, name: str, rows: DataFrame, drop_paths: list[str]) -> None:
    """One Delta commit on `OUTPUT/name`: rows with a known path replace it, new paths are inserted, and rows whose
    path is in `drop_paths` (now in the other table) are deleted. Creates the table on first use."""
    uri = table_uri(output, name)
    if not is_table(spark, uri):
        _writer(rows, name).mode("append").save(uri)
        return
    target = spark.read.format("delta").load(uri)
    source = _aligned(rows, target).withColumn("_drop", F.lit(False))
    if drop_paths:
        gone = spark.createDataFrame([(p,) for p in drop_paths], "path string")
        source = source.unionByName(_aligned(gone, target).withColumn("_drop", F.lit(True)))
    view = f"_merge_{name}"
    source.createOrReplaceTempView(view)
    columns = [f.name for f in target.schema.fields]
    assign = ", ".join(f"t.`{c}` = s.`{c}`" for c in columns)
    names = ", ".join(f"`{c}`" for c in columns)
    values = ", ".join(f"s.`{c}`" for c in columns)
    spark.sql(f"MERGE INTO delta.`{uri}` t USING {view} s ON t.path = s.path "
              f"WHEN MATCHED AND s._drop THEN DELETE "
              f"WHEN MATCHED THEN UPDATE SET {assign} "
              f"WHEN NOT MATCHED AND NOT s._drop THEN INSERT ({names}) VALUES ({values})")
    spark.catalog.dropTempView(view)


def delete_paths(spark: SparkSession, output: str, paths: list[str]) -> int:
    """Delete the rows of `paths` from both tables (one commit each); returns the rows deleted."""
    if not paths:
        return 0
    deleted = 0
    gone = spark.createDataFrame([(p,) for p in paths], "path string")
    gone.createOrReplaceTempView("_prune")
    for name in (FEATURES, ERRORS):
        uri = table_uri(output, name)
        if not is_table(spark, uri):
            continue
        before = spark.read.format("delta").load(uri).join(gone, "path", "left_semi").count()
        if before:
            spark.sql(f"MERGE INTO delta.`{uri}` t USING _prune s ON t.path = s.path WHEN MATCHED THEN DELETE")
            deleted += before
    spark.catalog.dropTempView("_prune")
    return deleted


def version(spark: SparkSession, output: str, name: str) -> int | None:
    """The table's latest version, or None when there is no table."""
    uri = table_uri(output, name)
    if not is_table(spark, uri):
        return None
    return int(spark.sql(f"DESCRIBE HISTORY delta.`{uri}` LIMIT 1").collect()[0]["version"])
