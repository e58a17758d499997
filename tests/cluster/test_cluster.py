"""The image as a distributed Spark executor: a clean run on a standalone cluster, a worker killed mid-run, a driver
killed mid-run then rerun. Every run reads and writes s3a:// on SeaweedFS and must reproduce the local run row for
row."""

from __future__ import annotations

import os
import time
from typing import Callable

import pytest

from cluster.harness import (BUCKET, RUN_TIMEOUT, RunOutput, finished_run, job_args, kill_fraction, list_keys,
                             prometheus_values, read_manifest, readable_parquet)
from infra.net import wait_for

# One module: the cluster, SeaweedFS and Prometheus are started once; setup includes the image build when needed.
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(2400)]


def _executors(manifest: dict) -> dict[str, int]:
    return manifest["spark_status"]["tasks_by_executor"]


def test_clean_distributed_run_matches_local_run(clean_run: RunOutput, local_reference: RunOutput,
                                                 cluster_prometheus):
    assert clean_run.manifest["spark"]["master"].startswith("spark://127.0.0.1:")
    assert clean_run.features == local_reference.features
    assert clean_run.errors == local_reference.errors
    assert clean_run.manifest["counts"] == local_reference.manifest["counts"]
    counts = clean_run.manifest["counts"]
    assert counts["input_files"] == counts["features_rows"] + counts["error_rows"] == len(clean_run.features) + 2
    status = clean_run.manifest["spark_status"]
    assert status["executors"] == 2 and status["executors_lost"] == 0 and status["failed_tasks"] == 0
    assert all(n > 0 for n in _executors(clean_run.manifest).values()), status
    # Both executors did work, as Prometheus scraped it from the driver's executors endpoint during the run.
    app = clean_run.manifest["spark"]["application_id"]
    window = int(clean_run.ended - clean_run.started) + 5
    selector = f'application_id="{app}",executor_id!="driver"'
    scraped = prometheus_values(cluster_prometheus.url,
                                f"max_over_time(metrics_executor_completedTasks_total{{{selector}}}[{window}s])",
                                at=clean_run.ended)
    assert len(scraped) == 2 and all(v > 0 for v in scraped.values()), scraped
    driver_up = prometheus_values(cluster_prometheus.url, f'max_over_time(up{{job="spark_driver"}}[{window}s])',
                                  at=clean_run.ended)
    assert driver_up == {"spark_driver": 1.0}


def test_worker_killed_mid_run_changes_nothing(spark_cluster, s3_server, s3_bank, clean_run: RunOutput,
                                               cluster_prometheus):
    spark_cluster.ensure_workers(2)
    target = max(1, int(kill_fraction("FRUIT_PIPELINE_CLUSTER_WORKER_KILL_AT", 0.3)
                        * clean_run.manifest["spark_status"]["completed_tasks"]))
    started = time.time()
    run = spark_cluster.submit(*job_args(f"s3a://{BUCKET}/worker-lost"))
    alive = lambda: run.proc.poll() is None  # noqa: E731
    wait_for(lambda: run.completed_tasks() >= target, f"{target} completed tasks", RUN_TIMEOUT, alive=alive)
    worker, victim = spark_cluster.kill_worker_mid_task(run)
    print(f"\nkilled {worker} (executor {victim}) after {run.completed_tasks()} of "
          f"~{clean_run.manifest['spark_status']['completed_tasks']} tasks", flush=True)
    got = finished_run(run, s3_server, "worker-lost", started)

    assert got.features == clean_run.features
    assert got.errors == clean_run.errors
    assert got.manifest["counts"] == clean_run.manifest["counts"]
    status = got.manifest["spark_status"]
    assert status["executors_lost"] >= 1 and victim in status["lost_executors"], status
    assert status["failed_tasks"] >= 1, status  # the task running on the killed executor, retried elsewhere
    assert status["completed_tasks"] >= clean_run.manifest["spark_status"]["completed_tasks"], status
    survivors = [e for e, n in _executors(got.manifest).items() if e not in status["lost_executors"] and n > 0]
    assert survivors, status
    # Prometheus saw the failed task attempts in the driver's own metrics.
    window = int(got.ended - started) + 5
    failed = prometheus_values(cluster_prometheus.url,
                               f"max_over_time(metrics_fruit_pipeline_driver_appStatus_tasks_failedTasks_Count"
                               f"[{window}s])", at=got.ended)
    assert failed and max(failed.values()) >= 1, failed


def _driver_kill_moment(run, client, clean_tasks: int) -> tuple[Callable[[], bool], str]:
    """When to kill the driver: after FRUIT_PIPELINE_CLUSTER_DRIVER_KILL_AT of the clean run's tasks if set, else as
    soon as a task of the features write has written a data file of the Delta table (the run writes into its staging
    folder OUT/.fruit-pipeline/staging/<run id>/) or that table's log exists."""
    if os.environ.get("FRUIT_PIPELINE_CLUSTER_DRIVER_KILL_AT"):
        target = max(1, int(kill_fraction("FRUIT_PIPELINE_CLUSTER_DRIVER_KILL_AT", 0.5) * clean_tasks))
        return (lambda: run.completed_tasks() >= target), f"{target} completed tasks"

    def writing() -> bool:
        keys = list_keys(client, BUCKET, "restart/")
        return any("/features/" in k and (k.endswith(".parquet") or "/_delta_log/" in k) for k in keys)

    return writing, "a committed task of the features write"


def test_driver_killed_then_rerun_completes_identically(spark_cluster, s3_server, s3_bank, clean_run: RunOutput):
    spark_cluster.ensure_workers(2)
    client = s3_server.client()
    args = job_args(f"s3a://{BUCKET}/restart")
    run = spark_cluster.submit(*args)
    moment, what = _driver_kill_moment(run, client, clean_run.manifest["spark_status"]["completed_tasks"])
    wait_for(moment, what, RUN_TIMEOUT, alive=lambda: run.proc.poll() is None)
    spark_cluster.kill(run.name)
    assert run.wait(60) != 0

    keys = list_keys(client, BUCKET, "restart/")
    print(f"\nafter the driver kill at {what}: {len(keys)} objects, e.g. {sorted(keys)[:6]}", flush=True)
    assert read_manifest(client, BUCKET, "restart/manifest.json") is None
    for dataset in ("features", "errors"):
        prefix = f"restart/{dataset}/"
        if not any(k.startswith(f"{prefix}_delta_log/") for k in keys):  # not committed: no data file published
            assert readable_parquet(keys, prefix) == [], f"uncommitted {dataset} files are readable"

    spark_cluster.wait_until_idle()
    spark_cluster.ensure_workers(2)
    rerun = finished_run(spark_cluster.submit(*args), s3_server, "restart", time.time())
    assert rerun.features == clean_run.features  # complete, identical
    assert len(rerun.features) == len(set(rerun.features)) == clean_run.manifest["counts"]["features_rows"]
    assert rerun.errors == clean_run.errors
    assert rerun.manifest["counts"] == clean_run.manifest["counts"]
