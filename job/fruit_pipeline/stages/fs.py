"""Small file operations on any Hadoop URI (file:, s3a:, s3: on EMR) through Spark's JVM."""

from __future__ import annotations

from pyspark.sql import SparkSession


def _path_and_fs(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    return path, path.getFileSystem(conf)


def exists(spark: SparkSession, uri: str) -> bool:
    path, fs = _path_and_fs(spark, uri)
    return bool(fs.exists(path))


def delete(spark: SparkSession, uri: str, recursive: bool = True) -> None:
    path, fs = _path_and_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, recursive)


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write (overwrite) a small UTF-8 text object."""
    path, fs = _path_and_fs(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def read_text(spark: SparkSession, uri: str) -> str:
    path, fs = _path_and_fs(spark, uri)
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def copy_from_local(spark: SparkSession, local_dir: str, uri: str) -> None:
    """Upload a local directory's files to `uri` (replacing it)."""
    path, fs = _path_and_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)
    jvm = spark.sparkContext._jvm
    fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path("file://" + local_dir), path)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])
