"""The SparkSession: built once from the config's profile; the only place settings are applied."""

from __future__ import annotations

import logging
import os
import sys

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from ..config import PipelineConfig
from ..errors import PipelineError
from ..failures import note_interrupts
from .s3_conf import ensure_jars
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
    ensure_jars(cfg, os.environ)
    conf = spark_conf(cfg)
    if conf.get("spark.eventLog.enabled") == "true" and SparkContext._active_spark_context is None:
        conf = _with_event_log_dir(conf, explicit=bool(cfg.event_log.dir))
    spark = SparkSession.builder.config(conf=SparkConf().setAll(conf.items())).getOrCreate()
    note_interrupts(spark.sparkContext)  # replaces pyspark's SIGINT handler
    spark.sparkContext.setLogLevel("WARN")
    if "spark.sql.files.minPartitionNum" not in cfg.spark.conf:
        tasks = default_parallelism(spark) * cfg.spark.partitions_per_core
        spark.conf.set("spark.sql.files.minPartitionNum", str(tasks))
    if "spark.sql.sources.parallelPartitionDiscovery.parallelism" not in cfg.spark.conf:
        # reading many literal paths (an append's batch) lists them in a Spark job of one task per path by
        # default (1,000 tasks: 2.8 s on 2 cores for a 1,000-file batch); a few tasks per core do the same
        tasks = default_parallelism(spark) * cfg.spark.partitions_per_core
        spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.parallelism", str(tasks))
    log.info("spark %s session %s on %s", spark.version, spark.sparkContext.applicationId, spark.sparkContext.master)
    if cfg.metrics.enabled:
        from .metrics_conf import announce
        announce(spark.sparkContext)
    return spark


def _with_event_log_dir(conf: dict[str, str], explicit: bool) -> dict[str, str]:
    """Create spark.eventLog.dir (Spark refuses to start without it) through Hadoop's FileSystem, in the JVM the
    session will use, so file:, s3a: and EMRFS s3: work with the run's own settings and credentials. A default
    directory that cannot be created turns event logs off with a warning; a configured one fails the run."""
    SparkContext._ensure_initialized(conf=SparkConf().setAll(conf.items()))
    jvm = SparkContext._jvm
    uri = conf["spark.eventLog.dir"]
    try:
        jconf = jvm.org.apache.spark.SparkConf(False)
        for key, value in conf.items():
            jconf.set(key, value)
        hadoop = jvm.org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(jconf)
        path = jvm.org.apache.hadoop.fs.Path(uri)
        path.getFileSystem(hadoop).mkdirs(path)
        return conf
    except Exception as exc:  # noqa: BLE001 - Py4J wraps every JVM failure
        reason = str(exc).strip().splitlines()[0][:300]
        if explicit:
            raise PipelineError(f"event log directory {uri} cannot be created: {reason}") from None
        log.warning("event logs off: %s cannot be created (%s); set event_log.dir", uri, reason)
        return {k: v for k, v in conf.items() if not k.startswith("spark.eventLog.")}


def default_parallelism(spark: SparkSession) -> int:
    return max(1, spark.sparkContext.defaultParallelism)
