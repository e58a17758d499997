"""List the image bank: Spark's binaryFile source for the images, plus a walk that accounts for every other file.

Spark's file index silently leaves out names starting with `_` or `.` and dangling symbolic links, and
its reader globs the input path. Here the input is read literally (glob characters escaped), local files
are read without Hadoop's checksum layer (which cannot build `.<name>.crc` for names with a colon), and
`survey` walks the bank once more so each file Spark does not read is counted with a reason.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from ..bank_files import IMAGE_GLOB, NOT_INDEXED, Skips, skip_reason
from ..errors import PipelineError
from .udfs import uri_to_path

log = logging.getLogger(__name__)

# Hadoop glob metacharacters; a backslash makes each one literal (Globber unescapes literal components).
GLOB_CHARS = re.compile(r"([\\*?\[\]{}])")
# Reader options for a local bank only, merged into the scan's Hadoop configuration: local files through
# RawLocalFileSystem. Never for other schemes: the scan's configuration becomes that of any FileSystem it creates
# and caches (an S3AFileSystem reading s3a://), and S3A's disk buffers for writes then get RawLocalFileSystem from
# FileSystem.getLocal and fail casting it to LocalFileSystem (seen on standalone executors).
LOCAL_READER_OPTIONS = {"fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
                        "fs.file.impl.disable.cache": "true"}


def escape_glob(uri: str) -> str:
    """The input path as a Hadoop glob that matches only itself."""
    return GLOB_CHARS.sub(r"\\\1", uri)


def is_local(uri: str) -> bool:
    """A path or file: URI (the local disk)."""
    return "://" not in uri or uri.startswith("file:")


def image_reader(spark: SparkSession, uri: str):
    """The binaryFile reader every stage uses: recursive, image extensions in any case; for a local bank, no
    checksum layer."""
    reader = (spark.read.format("binaryFile")
              .option("recursiveFileLookup", "true")
              .option("pathGlobFilter", IMAGE_GLOB))
    for key, value in (LOCAL_READER_OPTIONS.items() if is_local(uri) else ()):
        reader = reader.option(key, value)
    return reader


def load_images(spark: SparkSession, uri: str) -> DataFrame:
    """The bank (read literally, never as a glob) as a binaryFile DataFrame; a missing input is a PipelineError."""
    try:
        return image_reader(spark, uri).load(escape_glob(uri))
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


@dataclass
class Survey:
    """Every file under the bank: the images Spark should read (paths as its `path` column) and the skips."""

    images: dict[str, str] = field(default_factory=dict)  # path as Spark writes it -> path under the bank
    skips: Skips = field(default_factory=Skips)
    top_folders: set[str] = field(default_factory=set)  # first folder of each image's path under the bank
    # with stats: (path, size in bytes, modification time in ms since the epoch) of each image, in walk order
    stats: list[tuple[str, int, int]] = field(default_factory=list)


def local_root(uri: str) -> str | None:
    """The absolute local directory of a plain path or file: URI; None for other schemes."""
    if uri.startswith("file:"):
        uri = uri.removeprefix("file://") if uri.startswith("file:///") else uri.removeprefix("file:")
    elif "://" in uri:
        return None
    return os.path.abspath(uri)


Entry = tuple[str, str, bool, Callable[[], tuple[int, int]]]


def _walk_local(root: str) -> Iterator[Entry]:
    """(path as Spark writes it, path relative to root, dangling, stat) for every non-folder entry; follows links.
    stat() gives (size, mtime ms) as Hadoop's local file system reports them (links followed, ms truncated)."""
    seen = {os.path.realpath(root)}
    stack = [(root, "")]  # (folder, its path relative to root with a trailing "/", or "" for root)
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir():
                    real = os.path.realpath(entry.path)
                    if real not in seen:  # a link back up the tree is walked once
                        seen.add(real)
                        stack.append((entry.path, rel + "/"))
                    continue
                dangling = entry.is_symlink() and not os.path.exists(entry.path)
                yield "file:" + entry.path, rel, dangling, partial(_local_stat, entry.path)


def _local_stat(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns // 1_000_000


# The tail of Hadoop's FileStatus.toString (S3AFileStatus and others append after it): size and mtime in ms.
STATUS_TAIL = re.compile(r"; length=(\d+); replication=\d+; blocksize=\d+; modification_time=(\d+);")


def _walk_hadoop(spark: SparkSession, uri: str) -> Iterator[Entry]:
    """The same for any Hadoop file system (s3a:, s3: on EMR), through its recursive (flat, paged) listing.
    The paths, and the statuses' texts (for size and mtime), cross from the JVM as one NUL-separated string each,
    not one Py4J round trip per file."""
    jvm = spark.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(uri)
    fs = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    prefix = fs.makeQualified(root).toString().rstrip("/") + "/"
    statuses = jvm.org.apache.hadoop.util.functional.RemoteIterators.toList(fs.listFiles(root, True))
    if statuses.isEmpty():
        return
    typed = jvm.java.util.Arrays.copyOf(statuses.toArray(), statuses.size(),
                                        jvm.java.lang.Class.forName("[Lorg.apache.hadoop.fs.FileStatus;"))
    paths = jvm.org.apache.hadoop.fs.FileUtil.stat2Paths(typed)
    wrap = jvm.scala.collection.immutable.ArraySeq.unsafeWrapArray
    texts: list[str] = []

    def stat(i: int) -> tuple[int, int]:
        if not texts:  # the statuses' texts, fetched once, only when some stat is asked for
            texts.extend(wrap(typed).mkString("\0").split("\0"))
        length, mtime = STATUS_TAIL.findall(texts[i])[-1]
        return int(length), int(mtime)

    for i, path in enumerate(wrap(paths).mkString("\0").split("\0")):
        yield path, path[len(prefix):] if path.startswith(prefix) else path.rsplit("/", 1)[-1], False, partial(stat, i)


def survey(spark: SparkSession, uri: str, stats: bool = False) -> Survey:
    """Walk the bank once and sort each file into `images` or `skips` (rules in bank_files); with `stats`, also
    the size and modification time of each image (`Survey.stats`)."""
    root = local_root(uri)
    entries = _walk_local(root) if root is not None else _walk_hadoop(spark, uri)
    result = Survey()
    for path, rel, dangling, stat in entries:
        reason = skip_reason(rel, dangling)
        if reason is None:
            if stats:
                try:
                    result.stats.append((path, *stat()))
                except FileNotFoundError:  # removed during the walk: not in the bank
                    continue
            result.images[path] = rel
            if "/" in rel:
                result.top_folders.add(rel.split("/", 1)[0])
        else:
            result.skips.add(rel, reason)
    return result


def survey_input(spark: SparkSession, uri: str, stats: bool = False) -> Survey:
    """`survey`, with a missing or unreadable input as a one-line PipelineError."""
    try:
        return survey(spark, uri, stats)
    except FileNotFoundError:
        raise PipelineError(f"input not found: {uri}") from None
    except Py4JJavaError as exc:
        if "java.io.FileNotFoundException" in str(exc):
            raise PipelineError(f"input not found: {uri}") from None
        raise PipelineError(describe_read_error(uri, exc)) from None


def reconcile(spark: SparkSession, bank: DataFrame, found: Survey, indexed: int) -> Skips:
    """The survey's skips, plus images the walk found that Spark's index does not hold (should be none)."""
    if indexed == len(found.images):
        return found.skips
    in_index = {r["path"] for r in indexed_paths(spark, bank).collect()}
    missing = [rel for path, rel in found.images.items() if path not in in_index]
    if missing:
        log.warning("%d image file(s) are not in Spark's file index; counted as skipped", len(missing))
    for rel in missing:
        found.skips.add(rel, NOT_INDEXED)
    return found.skips
