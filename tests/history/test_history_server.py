"""A run's Spark event log, on local disk and on SeaweedFS through s3a, replayed by a real Spark History Server
(`fruit-pipeline history`, Spark's own HistoryServer from pyspark's jars) and read through its REST API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from benchmarks.stage_times import read_events
from conftest import require, run_cli
from fruit_pipeline.stages.s3_conf import locked_jars
from infra.net import free_port, http_get, wait_for

pytestmark = pytest.mark.spark


@contextmanager
def history_server(log_dir: str, log_file: Path, env: dict | None = None, *args: str) -> Iterator[str]:
    """`fruit-pipeline history` on a free loopback port; its base URL while it runs, stopped afterwards."""
    port = free_port()
    with open(log_file, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "fruit_pipeline", "history", "--dir", log_dir, "--port",
                                 str(port), "--host", "127.0.0.1", *args], env={**os.environ, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_for(lambda: http_get(f"{base}/applications", timeout=2), "the History Server", seconds=120,
                 alive=lambda: proc.poll() is None)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _get(url: str):
    return json.loads(http_get(url, timeout=10))


def _replayed(base: str, app_id: str) -> bool:
    apps = {app["id"]: app for app in _get(f"{base}/applications")}
    return app_id in apps and apps[app_id]["attempts"][0]["completed"]


def assert_history_matches_manifest(base: str, manifest: dict) -> None:
    """The History Server lists the run as completed, with succeeded jobs and the executors the manifest counted."""
    app_id = manifest["spark"]["application_id"]
    wait_for(lambda: _replayed(base, app_id), f"application {app_id} in the History Server", seconds=90)
    jobs = _get(f"{base}/applications/{app_id}/jobs")
    assert jobs and {job["status"] for job in jobs} == {"SUCCEEDED"}
    executors = _get(f"{base}/applications/{app_id}/allexecutors")
    status = manifest["spark_status"]
    workers = [e for e in executors if e["id"] != "driver"]
    assert len(workers) == status["executors"]
    assert {e["id"]: e["totalTasks"] for e in workers} == status["tasks_by_executor"]
    assert sum(e["completedTasks"] for e in executors) == status["completed_tasks"] > 0
    assert {e["id"] for e in executors} >= {"driver"}


def _assert_rolling_compressed(names: list[str], app_id: str) -> None:
    """Spark 4's rolling layout: eventlog_v2_<app>/events_<n>_<app>.zstd, and the completed-app status file."""
    assert f"eventlog_v2_{app_id}/events_1_{app_id}.zstd" in names
    assert f"eventlog_v2_{app_id}/appstatus_{app_id}" in names  # `.inprogress` while the app runs


def test_local_event_log_is_replayed_by_the_history_server(small_bank: Path, tmp_path: Path):
    result = run_cli("run", "--input", str(small_bank), "--output", str(tmp_path / "runs" / "out"),
                     "--master", "local[2]", "--no-reduction", "--no-metrics")
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "runs" / "out" / "manifest.json").read_text())
    events = tmp_path / "runs" / "spark-events"  # the default: next to the output
    assert manifest["parameters"]["event_log"] == {"enabled": True, "dir": "", "rolling_max_file_size": "128m"}
    app_id = manifest["spark"]["application_id"]
    _assert_rolling_compressed([p.relative_to(events).as_posix() for p in events.rglob("*")], app_id)
    replayed = read_events(events / f"eventlog_v2_{app_id}")  # the benchmark's stage timer reads the zstd log
    assert (replayed[0]["Event"], replayed[-1]["Event"]) == ("SparkListenerLogStart", "SparkListenerApplicationEnd")
    with history_server(str(events), tmp_path / "history.log") as base:
        assert_history_matches_manifest(base, manifest)
    report = (tmp_path / "runs" / "out" / "report" / "index.html").read_text()
    assert "<h2>Cost (estimate)</h2>" in report and "cluster: 1 x m5.xlarge" in report  # local mode: one node


@pytest.mark.s3
def test_s3a_event_log_is_replayed_by_the_history_server(s3_server, small_bank: Path, tmp_path: Path):
    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "python image/fetch_jars.py .cache/jars")
    client = s3_server.client()
    client.create_bucket(Bucket="history")
    toml = tmp_path / "s3.toml"
    toml.write_text("[s3]\npath_style = true\n")
    result = run_cli("run", "--input", str(small_bank), "--output", "s3a://history/out", "--master", "local[2]",
                     "--no-reduction", "--no-metrics", "--config", str(toml), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads(client.get_object(Bucket="history", Key="out/manifest.json")["Body"].read())
    keys = [obj["Key"].removeprefix("spark-events/") for obj in
            client.list_objects_v2(Bucket="history", Prefix="spark-events/")["Contents"]]
    _assert_rolling_compressed(keys, manifest["spark"]["application_id"])
    with history_server("s3a://history/spark-events", tmp_path / "history.log", s3_server.env(),
                        "--s3-path-style") as base:
        assert_history_matches_manifest(base, manifest)
    assert s3_server.secret_key not in (tmp_path / "history.log").read_text()


def test_history_refuses_a_missing_directory(tmp_path: Path):
    result = run_cli("history", "--dir", str(tmp_path / "nope"))
    assert (result.returncode, result.stderr.strip()) == (
        2, f"fruit-pipeline: error: event log directory not found: {tmp_path / 'nope'}")


def test_an_unwritable_event_log_dir_fails_in_one_line(small_bank: Path, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_cli("run", "--input", str(small_bank), "--output", str(tmp_path / "out"), "--master", "local[1]",
                     "--no-reduction", "--no-metrics", "--event-log-dir", str(blocker / "events"))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"fruit-pipeline: error: event log directory file://{blocker / 'events'} cannot be created")
    assert not (tmp_path / "out" / "manifest.json").exists()
