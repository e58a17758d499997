"""Every Spark setting the job uses, per profile, as a plain dict (pure: no Spark import).

Profiles: `local` (pyspark on one machine), `kubernetes` (spark-operator / spark-submit on k8s,
our image) and `emr` (EMR on EKS: EMRFS `s3://`, nothing added to the classpath).
"""

from __future__ import annotations

import os
from typing import Mapping

from ..config import PipelineConfig
from .delta_conf import delta_conf
from .eventlog_conf import eventlog_conf
from .metrics_conf import metrics_conf
from .s3_conf import s3_conf

LOG4J_PROPERTIES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "log4j2.properties")


def base_conf(cfg: PipelineConfig) -> dict[str, str]:
    """Settings every profile shares: small-file packing, Arrow batches, quiet console."""
    return {
        "spark.app.name": cfg.spark.app_name,
        # Thousands of ~5 KB files: the default 4 MB open cost packs only ~32 files per task.
        "spark.sql.files.openCostInBytes": "8192",
        "spark.sql.files.ignoreMissingFiles": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(cfg.spark.arrow_batch_size),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.python.worker.reuse": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.debug.maxToStringFields": "200",
    }


# One JVM does everything in local mode and is CPU-bound on small heaps: the throughput collector spends less CPU
# than G1's concurrent work and write barriers (20k images, --no-reduction: JVM CPU -3 s, +6 % images/s, 3 paired runs).
LOCAL_GC = "-XX:+UseParallelGC"


def local_conf(cfg: PipelineConfig) -> dict[str, str]:
    java_opts = f"-Dlog4j2.configurationFile=file:{LOG4J_PROPERTIES} {LOCAL_GC}"
    return {
        "spark.master": cfg.spark.master,
        # default*, not extra*: a user's `--conf spark.driver.extraJavaOptions=...` is appended to these, not a
        # replacement that silently drops the log4j configuration and the collector.
        "spark.driver.defaultJavaOptions": java_opts,
        "spark.executor.defaultJavaOptions": java_opts,
        "spark.ui.port": "4040",
        "spark.port.maxRetries": "64",
    }


def kubernetes_conf(cfg: PipelineConfig) -> dict[str, str]:
    conf = {"spark.kubernetes.container.image.pullPolicy": "IfNotPresent"}
    if cfg.spark.master and not cfg.spark.master.startswith("local"):
        conf["spark.master"] = cfg.spark.master
    return conf


def emr_conf(cfg: PipelineConfig) -> dict[str, str]:
    """EMR sets master, classpath and EMRFS itself; we only add what the job needs."""
    return {}


PROFILE_CONF = {"local": local_conf, "kubernetes": kubernetes_conf, "emr": emr_conf}

# Settings of one concern each (S3, metrics, event logs, Delta Lake); each maps (config, environment) to a dict.
SOURCES = (s3_conf, metrics_conf, eventlog_conf, delta_conf)


def spark_conf(cfg: PipelineConfig, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """All settings for `cfg`, user `spark.conf` overrides applied last."""
    env = os.environ if env is None else env
    conf = base_conf(cfg)
    conf.update(PROFILE_CONF[cfg.spark.profile](cfg))
    for source in SOURCES:
        conf.update(source(cfg, env))
    conf.update(cfg.spark.conf)
    return conf

