"""The alert rules pass promtool; the dashboard only names metrics the job or Spark really export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from conftest import require
from infra.net import free_port, http_get
from fruit_pipeline.config import MetricsConfig, PipelineConfig, SparkConfig
from fruit_pipeline.observability.metrics import JobMetrics
from fruit_pipeline.pipeline import RunResult
from fruit_pipeline.stages.metrics_conf import endpoint_urls
from fruit_pipeline.stages.spark_conf import spark_conf

FILES = Path(__file__).resolve().parents[2] / "helm" / "fruit-pipeline" / "files"
NAME = re.compile(r"\b((?:fruit_pipeline|metrics)_[A-Za-z0-9_]+)")


def _finished_metrics() -> JobMetrics:
    cfg = PipelineConfig(input="/bank", metrics=MetricsConfig(port=0))
    metrics = JobMetrics(cfg, "r1")
    result = RunResult(run_id="r1", input_files=6, features_rows=4, error_rows=2,
                       errors_by_stage={"decode": 1, "read": 1}, bytes_read=1234, keypoints_total=710,
                       durations_s={"list": 1.0, "extract": 2.5})
    metrics.finished(result, {0: 1, 3: 1, 7: 1, 700: 1})
    return metrics


def _samples(metrics: JobMetrics) -> dict[str, float]:
    return {s.name + str(sorted(s.labels.items())): s.value for m in metrics.registry.collect() for s in m.samples}


def test_promtool_accepts_rules():
    require(shutil.which("promtool") is not None, "promtool", "bash tests/infra/install-system-deps.sh")
    done = subprocess.run(["promtool", "check", "rules", str(FILES / "prometheus-rules.yaml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 3 rules found" in done.stdout


def test_finished_exports_aggregates():
    s = _samples(_finished_metrics())
    assert s["fruit_pipeline_images_total[('outcome', 'ok')]"] == 4
    assert s["fruit_pipeline_images_total[('outcome', 'decode')]"] == 1
    assert s["fruit_pipeline_images_total[('outcome', 'features')]"] == 0
    assert s["fruit_pipeline_keypoints_per_image_bucket[('le', '0.0')]"] == 1
    assert s["fruit_pipeline_keypoints_per_image_bucket[('le', '5.0')]"] == 2
    assert s["fruit_pipeline_keypoints_per_image_bucket[('le', '500.0')]"] == 3
    assert s["fruit_pipeline_keypoints_per_image_bucket[('le', '+Inf')]"] == 4
    assert s["fruit_pipeline_keypoints_per_image_sum[]"] == 710
    assert s["fruit_pipeline_stage_duration_seconds[('stage', 'extract')]"] == 2.5
    assert s["fruit_pipeline_bytes_read_total[]"] == 1234
    assert s["fruit_pipeline_run_failed[]"] == 0


def test_failed_run_is_flagged():
    metrics = JobMetrics(PipelineConfig(input="/bank"), "r2")
    metrics.failed("PipelineError")
    text = generate_latest(metrics.registry).decode()
    assert "fruit_pipeline_run_failed 1.0" in text
    assert 'fruit_pipeline_last_failure_timestamp_seconds{reason="PipelineError"}' in text
    assert "fruit_pipeline_images_total" not in text


def test_dashboard_names_only_exported_job_metrics():
    dashboard = json.loads((FILES / "grafana-dashboard.json").read_text())
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for word in ("throughput", "errors", "cpu", "memory", "stage durations"):
        assert word in titles
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {n for e in exprs for n in NAME.findall(e) if n.startswith("fruit_pipeline_")}
    exported = {s.name for m in _finished_metrics().registry.collect() for s in m.samples}
    assert used and used <= exported, used - exported


def test_spark_metrics_settings_per_profile():
    for profile in ("local", "kubernetes", "emr"):
        conf = spark_conf(PipelineConfig(spark=SparkConfig(profile=profile)), env={})
        assert conf["spark.ui.prometheus.enabled"] == "true"
        assert conf["spark.metrics.namespace"] == "fruit_pipeline"
        assert conf["spark.metrics.conf.*.sink.prometheusServlet.path"] == "/metrics/driver/prometheus"
    off = spark_conf(PipelineConfig(metrics=MetricsConfig(enabled=False)), env={})
    assert "spark.ui.prometheus.enabled" not in off
    assert endpoint_urls("http://h:4041") == {"spark_driver": "http://h:4041/metrics/driver/prometheus/",
                                              "spark_executors": "http://h:4041/metrics/executors/prometheus/"}
    assert endpoint_urls(None) == {}


def test_no_server_without_port():
    metrics = JobMetrics(PipelineConfig(metrics=MetricsConfig(port=0)), "r3")
    metrics.started()
    assert metrics.url is None
    metrics.close()


def test_a_job_serves_its_metrics_until_closed():
    metrics = JobMetrics(PipelineConfig(metrics=MetricsConfig(port=free_port())), "r4")
    metrics.started()
    url = metrics.url
    assert url is not None and 'run_id="r4"' in http_get(url).decode()
    metrics.close()
    assert metrics.url is None
    with pytest.raises(OSError):
        http_get(url, timeout=2)


RULE_TESTS = """
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'fruit_pipeline_run_failed{{job="fruit_pipeline", run_id="bad"}}'
        values: '1x10'
      - series: 'fruit_pipeline_run_failed{{job="fruit_pipeline", run_id="good"}}'
        values: '0x10'
      - series: 'fruit_pipeline_images_total{{job="fruit_pipeline", run_id="good", outcome="ok"}}'
        values: '90x10'
      - series: 'fruit_pipeline_images_total{{job="fruit_pipeline", run_id="good", outcome="decode"}}'
        values: '10x10'
      - series: 'fruit_pipeline_last_success_timestamp_seconds{{job="fruit_pipeline", run_id="good"}}'
        values: '0x100'
    alert_rule_test:
      - eval_time: 5m
        alertname: FruitPipelineRunFailed
        exp_alerts:
          - exp_labels: {{severity: critical, run_id: bad}}
            exp_annotations:
              summary: fruit-pipeline run bad failed
              description: The run pushed fruit_pipeline_run_failed=1; see its driver log and manifest.
      - eval_time: 5m
        alertname: FruitPipelineErrorRatioHigh
        exp_alerts:
          - exp_labels: {{severity: warning, run_id: good}}
            exp_annotations:
              summary: 'fruit-pipeline run good: 10% of images failed'
              description: More than 5% of the input images ended in the errors table (decode, read or features).
      - eval_time: 5m
        alertname: FruitPipelineNoRecentSuccess
        exp_alerts: []
  - interval: 1h
    input_series:
      - series: 'fruit_pipeline_last_success_timestamp_seconds{{job="fruit_pipeline", run_id="old"}}'
        values: '0x30'
    alert_rule_test:
      - eval_time: 23h
        alertname: FruitPipelineNoRecentSuccess
        exp_alerts: []
      - eval_time: 26h
        alertname: FruitPipelineNoRecentSuccess
        exp_alerts:
          - exp_labels: {{severity: warning}}
            exp_annotations:
              summary: No successful fruit-pipeline run in the last 24 hours
              description: The Pushgateway holds no fruit_pipeline_last_success_timestamp_seconds newer than 24 h.
"""


def test_alerts_fire_on_failure_error_ratio_and_staleness(tmp_path):
    require(shutil.which("promtool") is not None, "promtool", "bash tests/infra/install-system-deps.sh")
    spec = tmp_path / "rules_test.yaml"
    spec.write_text(RULE_TESTS.format(rules=FILES / "prometheus-rules.yaml"))
    done = subprocess.run(["promtool", "test", "rules", str(spec)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
