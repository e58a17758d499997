"""Spark event-log settings: every run leaves a log the Spark History Server can replay (pure: no Spark import).

Spark 4.0 writes a rolling log as a directory `eventlog_v2_<app id>/` of `events_<n>_<app id>.zstd` files, each
at most `rolling_max_file_size`, so a long run never makes one huge file (Spark's "Monitoring and
Instrumentation" docs, `spark.eventLog.rolling.*`). The base directory must exist before the SparkContext starts:
`session.build_session` creates it.
"""

from __future__ import annotations

from typing import Mapping

from ..config import PipelineConfig

DEFAULT_NAME = "spark-events"


def default_dir(output: str) -> str:
    """`spark-events` beside the output: /data/out/run-1 -> /data/out/spark-events, s3a://b/x -> s3a://b/spark-events."""
    trimmed = output.rstrip("/")
    scheme, sep, rest = trimmed.partition("://")
    if not sep:
        scheme, rest = "", trimmed
    parent = rest.rsplit("/", 1)[0] if "/" in rest.lstrip("/") else (rest if sep else "")
    base = f"{scheme}://{parent}" if sep else (parent or "/")
    return f"{base.rstrip('/')}/{DEFAULT_NAME}"


def event_log_dir(cfg: PipelineConfig) -> str:
    """The configured directory, else `spark-events` next to the output; a plain path becomes a file: URI."""
    uri = cfg.event_log.dir or default_dir(cfg.output)
    return uri if "://" in uri or uri.startswith("file:") else f"file://{uri}"


def eventlog_conf(cfg: PipelineConfig, env: Mapping[str, str]) -> dict[str, str]:
    """spark.eventLog.* for `cfg`; nothing (Spark's default: off) when disabled or without an output."""
    if not cfg.event_log.enabled or not (cfg.event_log.dir or cfg.output):
        return {}
    return {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": event_log_dir(cfg),
        "spark.eventLog.compress": "true",
        "spark.eventLog.compression.codec": "zstd",
        "spark.eventLog.rolling.enabled": "true",
        "spark.eventLog.rolling.maxFileSize": cfg.event_log.rolling_max_file_size,
    }
