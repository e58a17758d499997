"""Delta Lake settings: the SQL extension (MERGE, DELETE, VACUUM on path-based tables) and its catalog.

Path-based tables only (`delta.`<uri>``): no metastore or catalog service is needed. Local runs get the locked
jars (`s3_conf.run_jars`), our image bakes them into Spark's jars folder, EMR on EKS 7.x ships Delta under
/usr/share/aws/delta/lib (put on the classpath here for the emr profile).
"""

from __future__ import annotations

from typing import Mapping

from ..config import PipelineConfig

# Where EMR 7.x images keep Delta (Delta 3+ renamed delta-core.jar to delta-spark.jar): AWS, "Using Delta Lake with
# Amazon EMR on EKS", EMR on EKS Development Guide.
EMR_DELTA_JARS = "local:///usr/share/aws/delta/lib/delta-spark.jar,local:///usr/share/aws/delta/lib/delta-storage.jar"
EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def delta_conf(cfg: PipelineConfig, env: Mapping[str, str]) -> dict[str, str]:
    """Extension + catalog on every profile; the writer is one run at a time (the output lock), so Delta's default
    single-driver S3 log store is safe without DynamoDB."""
    conf = {"spark.sql.extensions": EXTENSION, "spark.sql.catalog.spark_catalog": CATALOG,
            # the log's state is a few hundred actions per commit: Delta's default 50 tasks per snapshot cost
            # seconds on 2 cores for nothing (measured on a 50-image append: listing 17.5 s)
            "spark.databricks.delta.snapshotPartitions": "4"}
    if cfg.spark.profile == "emr":  # EMR ships Delta but does not put it on the classpath by itself
        conf["spark.jars"] = EMR_DELTA_JARS
    return conf
