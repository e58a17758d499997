"""Vectorised pandas UDFs (kept here: their type hints must stay real, not postponed strings)."""

from urllib.parse import unquote

import pandas as pd
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import StringType, StructField, StructType

from ..imaging.labels import label_and_split


@pandas_udf(StructType([StructField("label", StringType()), StructField("split", StringType())]))
def label_split(paths: pd.Series) -> pd.DataFrame:
    """label/split columns from file paths, with the same rules as the extraction."""
    return pd.DataFrame([label_and_split(p) for p in paths], columns=["label", "split"])


@pandas_udf(StringType())
def uri_to_path(uris: pd.Series) -> pd.Series:
    """A file URI (`file:///a%20b`) in the form the binaryFile `path` column uses (`file:/a b`)."""
    return uris.map(lambda u: "file:/" + unquote(u[len("file:///"):]) if u.startswith("file:///") else unquote(u))
