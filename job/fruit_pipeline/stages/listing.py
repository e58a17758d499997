"""List the image bank with Spark's binaryFile source (metadata only, content not read)."""

from __future__ import annotations

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from ..errors import PipelineError
from ..imaging.labels import IMAGE_GLOB
from .udfs import uri_to_path


def image_reader(spark: SparkSession):
    """The binaryFile reader every stage uses: recursive, image extensions in any case."""
    return (spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", IMAGE_GLOB))


def load_images(spark: SparkSession, uri: str) -> DataFrame:
    """The bank as a binaryFile DataFrame; a missing or unreadable input is a PipelineError."""
    try:
        return image_reader(spark).load(uri)
    except AnalysisException as exc:
        raise PipelineError(describe_read_error(uri, exc)) from None


def describe_read_error(uri: str, exc: Exception) -> str:
    """One line for a failure to open the input."""
    text = str(exc)
    if "PATH_NOT_FOUND" in text or "does not exist" in text:
        return f"input not found: {uri}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot read input {uri}: {first}"


def list_images(bank: DataFrame) -> DataFrame:
    """(path, length) of every non-empty image file (Spark's scans skip 0-byte files)."""
    return bank.select("path", "length")


def indexed_file_count(bank: DataFrame) -> int:
    """Files in the source's file index, 0-byte ones included (no data moves to Python)."""
    return len(bank._jdf.inputFiles())


def indexed_paths(spark: SparkSession, bank: DataFrame) -> DataFrame:
    """Every indexed file as a `path` column in the same form as the scans' `path` column."""
    jvm = spark.sparkContext._jvm
    uris = jvm.scala.collection.immutable.ArraySeq.unsafeWrapArray(bank._jdf.inputFiles())
    jdf = spark._jsparkSession.createDataset(uris, jvm.org.apache.spark.sql.Encoders.STRING()).toDF()

    return DataFrame(jdf, spark).select(uri_to_path("value").alias("path"))

