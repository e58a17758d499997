"""Spark's native metrics for Prometheus: PrometheusServlet on the driver UI, executor metrics endpoint."""

from __future__ import annotations

import sys
from typing import Mapping

from ..config import PipelineConfig

SERVLET = "org.apache.spark.metrics.sink.PrometheusServlet"
DRIVER_PATH = "/metrics/driver/prometheus"
EXECUTORS_PATH = "/metrics/executors/prometheus"


def metrics_conf(cfg: PipelineConfig, env: Mapping[str, str]) -> dict[str, str]:
    """PrometheusServlet + executor endpoint, with a fixed namespace so names do not embed the app id."""
    if not cfg.metrics.enabled:
        return {}
    return {
        "spark.ui.prometheus.enabled": "true",
        "spark.metrics.namespace": cfg.metrics.namespace,
        "spark.metrics.conf.*.sink.prometheusServlet.class": SERVLET,
        "spark.metrics.conf.*.sink.prometheusServlet.path": DRIVER_PATH,
        "spark.metrics.appStatusSource.enabled": "true",
        "spark.sql.streaming.metricsEnabled": "false",
    }


def endpoint_urls(ui_url: str | None) -> dict[str, str]:
    """Where Spark's own metrics can be scraped, given `sparkContext.uiWebUrl` (empty when the UI is off)."""
    if not ui_url:
        return {}
    base = ui_url.rstrip("/")
    return {"spark_driver": f"{base}{DRIVER_PATH}/", "spark_executors": f"{base}{EXECUTORS_PATH}/"}


def announce(spark_context) -> None:
    """Print where Spark's metrics can be scraped (stderr, one line each)."""
    for name, url in endpoint_urls(spark_context.uiWebUrl).items():
        print(f"metrics: {name} {url}", file=sys.stderr, flush=True)

