"""A failed run is pushed to a real Pushgateway under its run id; a missing Pushgateway does not raise."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fruit_pipeline.config import MetricsConfig, PipelineConfig
from fruit_pipeline.observability.metrics import JobMetrics
from infra.prometheus_fixtures import free_port, http_get

pytestmark = pytest.mark.prometheus


def test_failed_run_is_pushed(pushgateway):
    cfg = PipelineConfig(input="/bank", metrics=MetricsConfig(pushgateway=pushgateway))
    JobMetrics(cfg, "run-x").failed("PipelineError")
    samples = [s for f in text_string_to_metric_families(http_get(f"{pushgateway}/metrics").decode())
               for s in f.samples if s.labels.get("run_id") == "run-x"]
    by_name = {s.name: s for s in samples}
    assert by_name["fruit_pipeline_run_failed"].value == 1
    assert by_name["fruit_pipeline_run_failed"].labels["job"] == "fruit_pipeline"
    assert by_name["fruit_pipeline_last_failure_timestamp_seconds"].labels["reason"] == "PipelineError"
    assert by_name["fruit_pipeline_run_info"].labels["input"] == "/bank"


def test_unreachable_pushgateway_only_warns(caplog):
    cfg = PipelineConfig(metrics=MetricsConfig(pushgateway=f"http://127.0.0.1:{free_port()}"))
    JobMetrics(cfg, "run-y").failed("PipelineError")
    assert "push to" in caplog.text


def test_a_fresh_pushgateway_starts_empty(pushgateway):
    """No push groups from earlier tests or runs on this machine (Debian's default persistence file is shared)."""
    import json

    groups = json.loads(http_get(f"{pushgateway}/api/v1/metrics"))
    assert groups == {"status": "success", "data": []}
    pushed = [ln for ln in http_get(f"{pushgateway}/metrics").decode().splitlines() if ln.startswith("push_time")]
    assert pushed == []
