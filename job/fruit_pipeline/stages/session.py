"""The SparkSession: built once from the config's profile; the only place settings are applied."""

from __future__ import annotations

import logging
import os
import sys

from pyspark.sql import SparkSession

from ..config import PipelineConfig
from .spark_conf import spark_conf

log = logging.getLogger(__name__)


def _python_for_workers() -> None:
    """Executors on this machine must run the interpreter that has our dependencies."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def build_session(cfg: PipelineConfig) -> SparkSession:
    """Create (or reuse) the session with every setting from `spark_conf`."""
    if cfg.spark.profile == "local":
        _python_for_workers()
    from .s3_conf import ensure_jars
    ensure_jars(cfg, os.environ)
    builder = SparkSession.builder
    for key, value in spark_conf(cfg).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    from ..failures import note_interrupts
    note_interrupts(spark.sparkContext)  # replaces pyspark's SIGINT handler
    spark.sparkContext.setLogLevel("WARN")
    if "spark.sql.files.minPartitionNum" not in cfg.spark.conf:
        tasks = default_parallelism(spark) * cfg.spark.partitions_per_core
        spark.conf.set("spark.sql.files.minPartitionNum", str(tasks))
    log.info("spark %s session %s on %s", spark.version, spark.sparkContext.applicationId, spark.sparkContext.master)
    if cfg.metrics.enabled:
        from .metrics_conf import announce
        announce(spark.sparkContext)
    return spark


def default_parallelism(spark: SparkSession) -> int:
    return max(1, spark.sparkContext.defaultParallelism)
