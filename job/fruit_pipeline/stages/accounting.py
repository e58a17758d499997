"""Make every listed file end in exactly one place: a feature row or an error row."""


from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from ..imaging.labels import label_and_split


def _with_label_split(df: DataFrame) -> DataFrame:
    """label/split for rows that never reached the Python extraction (vectorised pandas UDF)."""
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("label string, split string")
    def label_split(paths: pd.Series) -> pd.DataFrame:
        pairs = [label_and_split(p) for p in paths]
        return pd.DataFrame(pairs, columns=["label", "split"])

    return df.withColumn("_ls", label_split("path")).select("*", "_ls.label", "_ls.split").drop("_ls")


def listing_errors(too_large: DataFrame, listing: DataFrame, extracted: DataFrame, max_bytes: int) -> DataFrame:
    """Error rows for files the content scan never returned: too large, or gone before reading."""
    oversize = too_large.select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.concat(F.lit("file too large: "), F.col("length").cast(StringType()),
                 F.lit(f" bytes > max_file_bytes {max_bytes}")).alias("reason"))
    readable = listing.where(F.col("length") <= F.lit(max_bytes))
    vanished = readable.join(extracted.select("path"), "path", "left_anti").select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.lit("file disappeared between listing and reading").alias("reason"))
    both = oversize.unionByName(vanished)
    return _with_label_split(both).select("path", "label", "split", "file_bytes", "stage", "reason")


def count_inputs(listing: DataFrame, extracted: DataFrame) -> int:
    """Distinct files seen by either scan (a file added between the two scans still counts)."""
    return listing.select("path").unionByName(extracted.select("path")).distinct().count()
