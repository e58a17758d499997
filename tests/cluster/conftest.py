"""Cluster fixtures: Spark standalone master + 2 workers (containers of our image), SeaweedFS with the bank uploaded,
Prometheus scraping the driver and executors, and the reference outputs (local run, clean distributed run).

Knobs (environment): FRUIT_PIPELINE_CLUSTER_IMAGES (bank size, default 400), FRUIT_PIPELINE_CLUSTER_WORKER_KILL_AT
(fraction of the clean run's tasks completed before a worker is killed, default 0.3) and
FRUIT_PIPELINE_CLUSTER_DRIVER_KILL_AT (the same for the driver; unset: kill it during the features write).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from cluster.harness import (BANK_MARKER, BUCKET, JARS_IN_IMAGE, RunOutput, SparkCluster, canonical_rows, finished_run,
                             job_args)
from infra.prometheus_fixtures import INSTALL as PROMETHEUS_INSTALL
from infra.prometheus_fixtures import Prometheus, _start, _stop, scrape_config, wait_http
from infra.net import free_port


def _bank_size() -> int:
    return int(os.environ.get("FRUIT_PIPELINE_CLUSTER_IMAGES", "400"))


@pytest.fixture(scope="module")
def cluster_bank(tmp_path_factory) -> Path:
    """A synthetic bank (4 classes, Training/Test) plus one undecodable and one empty file."""
    from fruit_pipeline.sample_bank import BankSpec, write_bank

    out = tmp_path_factory.mktemp("cluster") / "bank"
    write_bank(BankSpec(out, classes=4, per_class=_bank_size() // 4, test_fraction=0.25, seed=11), workers=1)
    label_dir = sorted(p for p in (out / "Training").iterdir() if p.is_dir())[0]
    (label_dir / "broken.jpg").write_text("not a jpeg\n")
    (label_dir / "empty.jpg").write_bytes(b"")
    return out


@pytest.fixture(scope="module")
def s3_bank(s3_server, cluster_bank: Path) -> str:
    """The bank uploaded to SeaweedFS with `fruit-pipeline upload`'s code."""
    from fruit_pipeline.cloud.s3_upload import upload

    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    upload(cluster_bank, f"s3a://{BUCKET}/bank", client=client)
    return f"s3a://{BUCKET}/bank"


def _image_has_s3a_jars(engine, image: str) -> bool:
    probe = engine.run("run", "--rm", "--network", "host", image, "bash", "-c",
                       'ls "$SPARK_HOME"/jars/hadoop-aws-*.jar "$SPARK_HOME"/jars/spark-hadoop-cloud_*.jar',
                       check=False, timeout=120)
    return probe.returncode == 0


def _s3a_classpath(engine, image: str) -> tuple[list[str], dict[str, str]]:
    """Docker mounts and Spark settings for the S3A jars: none when the image bakes them in; otherwise the locked
    jars from `make jars` mounted read-only and put on the driver's and executors' class path (said loudly)."""
    from conftest import require
    from fruit_pipeline.stages.s3_conf import JARS_DIR, locked_jars

    if _image_has_s3a_jars(engine, image):
        return [], {}
    jars = locked_jars()
    require(bool(jars) and all(j.exists() for j in jars), "hadoop-aws jars", "make jars")
    print(f"\nNOTE: {image} has no S3A jars in $SPARK_HOME/jars; mounting {JARS_DIR} read-only", flush=True)
    classpath = f"{JARS_IN_IMAGE}/*"
    return (["-v", f"{JARS_DIR}:{JARS_IN_IMAGE}:ro"],
            {"spark.driver.extraClassPath": classpath, "spark.executor.extraClassPath": classpath})


@pytest.fixture(scope="module")
def spark_cluster(docker_engine, pipeline_image: str, s3_server, tmp_path_factory):
    """Master + 2 workers (1 core, 1 GiB each) on the host network; every container removed at the end."""
    workdir = tmp_path_factory.mktemp("cluster-logs")
    mounts, classpath_conf = _s3a_classpath(docker_engine, pipeline_image)
    conf = {
        "spark.hadoop.fs.s3a.path.style.access": "true",
        # All containers share one host name but not one filesystem: read other executors' shuffle files over the
        # network, never straight from "host-local" disk (on Kubernetes every pod has its own address).
        "spark.shuffle.readHostLocalDisk": "false",
        "spark.executor.heartbeatInterval": "1s",
        **classpath_conf,
    }
    cluster = SparkCluster(docker_engine, pipeline_image, workdir, s3_server.env(), extra_conf=conf, mounts=mounts)
    try:
        cluster.start_master()
        cluster.start_worker("worker-1")
        cluster.start_worker("worker-2")
        cluster.wait_for_workers()
        yield cluster
    finally:
        cluster.save_logs()
        print(f"\ncluster logs: {workdir}", flush=True)
        left = cluster.teardown()
        assert not left, f"containers left after the cluster test: {left}"


@pytest.fixture(scope="module")
def cluster_prometheus(spark_cluster: SparkCluster, tmp_path_factory):
    """Prometheus scraping the driver (/metrics/driver/prometheus/) and executors of every run, every second."""
    import shutil

    from conftest import require

    require(shutil.which("prometheus") is not None, "prometheus", PROMETHEUS_INSTALL)
    root = tmp_path_factory.mktemp("cluster-prometheus")
    address = f"127.0.0.1:{spark_cluster.driver_ui_port}"
    cfg = root / "prometheus.yml"
    cfg.write_text(scrape_config({"spark_driver": (address, "/metrics/driver/prometheus/"),
                                  "spark_executors": (address, "/metrics/executors/prometheus/")}))
    port = free_port()
    proc = _start(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={root / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}"], root / "prometheus.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready")
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def local_reference(cluster_bank: Path, tmp_path_factory) -> RunOutput:
    """The same job on one machine (`local[2]`, local disk): what every distributed run must reproduce."""
    import json

    from conftest import run_cli

    out = tmp_path_factory.mktemp("cluster-local") / "out"
    started = time.time()
    done = run_cli("run", "--input", str(cluster_bank), "--output", str(out), "--master", "local[2]",
                   "--no-reduction", "--no-evaluation", "--no-metrics")
    assert done.returncode == 0, done.stderr[-3000:]
    return RunOutput(canonical_rows(pd.read_parquet(out / "features"), BANK_MARKER),
                     canonical_rows(pd.read_parquet(out / "errors"), BANK_MARKER),
                     json.loads((out / "manifest.json").read_text()), done.stderr, started, time.time())


@pytest.fixture(scope="module")
def clean_run(spark_cluster: SparkCluster, s3_server, s3_bank: str, cluster_prometheus) -> RunOutput:
    """The distributed run with no fault, scraped by Prometheus."""
    spark_cluster.ensure_workers(2)
    started = time.time()
    run = spark_cluster.submit(*job_args(f"s3a://{BUCKET}/clean"))
    return finished_run(run, s3_server, "clean", started)

