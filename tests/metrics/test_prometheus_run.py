"""A real run scraped by a real Prometheus and pushed to a real Pushgateway."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.prometheus_fixtures import free_port, http_get

pytestmark = pytest.mark.prometheus
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "helm" / "fruit-pipeline" / "files" / "grafana-dashboard.json"


def _bank_with_bad_files(small_bank: Path, dest: Path) -> Path:
    shutil.copytree(small_bank, dest)
    label_dir = next(p for p in (dest / "Training").iterdir() if p.is_dir())
    (label_dir / "empty.jpg").write_bytes(b"")
    (label_dir / "notes.png").write_text("not an image\n")
    return dest


def _pushed(url: str, run_id: str) -> dict[tuple[str, tuple], float]:
    """Samples the Pushgateway holds for `run_id`: (name, sorted labels without job/run_id/instance) -> value."""
    out = {}
    for family in text_string_to_metric_families(http_get(f"{url}/metrics").decode()):
        for s in family.samples:
            if s.labels.get("run_id") == run_id and s.labels.get("job") == "fruit_pipeline":
                labels = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("job", "run_id", "instance")))
                out[(s.name, labels)] = s.value
    return out


def _dashboard_names() -> set[str]:
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p.get("targets", [])]
    return {n for e in exprs for n in re.findall(r"\b((?:fruit_pipeline|metrics)_[A-Za-z0-9_]+)", e)}


def _wait_up(prom, job: str, proc: subprocess.Popen, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r["value"][1] == "1" for r in prom.query(f'up{{job="{job}"}}')):
            return True
        time.sleep(0.5)
    return False


def test_run_is_scraped_and_pushed(tmp_path, small_bank, pushgateway, start_prometheus):
    bank = _bank_with_bad_files(small_bank, tmp_path / "bank")
    job_port, ui_port = free_port(), free_port()
    prom = start_prometheus({
        "fruit_pipeline": (f"127.0.0.1:{job_port}", "/metrics"),
        "spark_driver": (f"127.0.0.1:{ui_port}", "/metrics/driver/prometheus/"),
        "spark_executors": (f"127.0.0.1:{ui_port}", "/metrics/executors/prometheus/"),
    })
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fruit_pipeline", "run", "--input", str(bank), "--output", str(out),
         "--master", "local[2]", "--no-reduction", "--metrics-port", str(job_port), "--pushgateway", pushgateway,
         "--conf", f"spark.ui.port={ui_port}", "--conf", "spark.port.maxRetries=0",
         # peak JVM metrics (JVMHeapMemory) reach the executors endpoint with heartbeats (10 s by default)
         "--conf", "spark.executor.heartbeatInterval=1s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job_up = _wait_up(prom, "fruit_pipeline", proc)
    executors_up = _wait_up(prom, "spark_executors", proc)
    time.sleep(1.5)  # at least one more scrape of the executors endpoint while the job runs
    names_during_run = prom.names()
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert job_up and executors_up, "Prometheus never saw the driver endpoints up during the run"
    assert f"metrics: job http://127.0.0.1:{job_port}/metrics" in stderr
    assert f":{ui_port}/metrics/executors/prometheus/" in stderr

    features = ds.dataset(out / "features", format="parquet", partitioning="hive").count_rows()
    errors = ds.dataset(out / "errors", format="parquet").count_rows()
    manifest = json.loads((out / "manifest.json").read_text())
    assert errors == 2 and features == manifest["counts"]["features_rows"] > 0

    pushed = _pushed(pushgateway, manifest["run_id"])
    images = {dict(k[1])["outcome"]: v for k, v in pushed.items() if k[0] == "fruit_pipeline_images_total"}
    assert images["ok"] == features
    assert sum(v for o, v in images.items() if o != "ok") == errors
    assert pushed[("fruit_pipeline_keypoints_per_image_count", ())] == features
    assert pushed[("fruit_pipeline_keypoints_per_image_sum", ())] == manifest["keypoints_total"]
    assert pushed[("fruit_pipeline_bytes_read_total", ())] == manifest["bytes_read"]
    assert pushed[("fruit_pipeline_run_failed", ())] == 0
    assert pushed[("fruit_pipeline_last_success_timestamp_seconds", ())] > time.time() - 600

    # Spark's own executor metrics reached Prometheus for this run, under the fixed namespace.
    executor_series = prom.query('last_over_time(metrics_executor_memoryUsed_bytes{job="spark_executors"}[5m])')
    assert executor_series, sorted(names_during_run)[:50]
    assert any(s["metric"].get("executor_id") == "driver" for s in executor_series)
    assert any(n.startswith("metrics_fruit_pipeline_driver_") for n in names_during_run)
    spark_names = {n for n in _dashboard_names() if n.startswith("metrics_")}
    assert spark_names and spark_names <= names_during_run, spark_names - names_during_run
