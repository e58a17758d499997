"""List the image bank with Spark's binaryFile source (metadata only, content not read)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.errors import AnalysisException

from ..errors import PipelineError
from ..imaging.labels import IMAGE_GLOB


def image_reader(spark: SparkSession, uri: str):
    """The binaryFile reader every stage uses: recursive, image extensions in any case."""
    return (spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", IMAGE_GLOB))


def list_images(spark: SparkSession, uri: str) -> DataFrame:
    """(path, length) of every image file under `uri`; a missing input is a PipelineError."""
    try:
        return image_reader(spark, uri).load(uri).select("path", "length")
    except AnalysisException as exc:
        raise PipelineError(describe_read_error(uri, exc)) from None


def describe_read_error(uri: str, exc: Exception) -> str:
    """One line for a failure to open the input."""
    text = str(exc)
    if "PATH_NOT_FOUND" in text or "does not exist" in text:
        return f"input not found: {uri}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot read input {uri}: {first}"


def with_length_guard(df: DataFrame, max_bytes: int) -> tuple[DataFrame, DataFrame]:
    """Split a listing into (readable, too_large) by file size."""
    too_big = F.col("length") > F.lit(max_bytes)
    return df.where(~too_big), df.where(too_big)
