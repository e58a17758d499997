"""What the local-cluster tests do to and read from the cluster: watch pods, read S3 output, the local reference run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .localcluster import Cluster

APP_LABEL = "sparkoperator.k8s.io/app-name"
NAMESPACE = "fruit-pipeline"

_FETCH = """
import os, sys, boto3
bucket, prefix, dest = sys.argv[1:4]
s3 = boto3.client("s3")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
    for obj in page.get("Contents", []):
        if obj["Key"].endswith("/"):  # a directory marker
            continue
        path = os.path.join(dest, obj["Key"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(bucket, obj["Key"], path)
"""

_DRIVER_TASKS = """
import json, sys, urllib.request
base = f"http://{sys.argv[1]}:4040/api/v1/applications"
app = json.load(urllib.request.urlopen(base, timeout=3))[0]["id"]
stages = json.load(urllib.request.urlopen(f"{base}/{app}/stages", timeout=3))
print(json.dumps([sum(s["numCompleteTasks"] for s in stages), sum(s["numActiveTasks"] for s in stages)]))
"""


class PodWatcher:
    """Records the last state of every pod with a label selector while a run lasts (executors are deleted at the end)."""

    def __init__(self, cluster: Cluster, selector: str, interval: float = 2):
        self.cluster, self.selector, self.interval = cluster, selector, interval
        self.pods: dict[str, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for pod in self.cluster.get("pods", "-n", NAMESPACE, "-l", self.selector)["items"]:
                    self.pods[pod["metadata"]["name"]] = pod
            except Exception:  # noqa: BLE001 - the next poll retries
                pass
            self._stop.wait(self.interval)

    def role(self, role: str) -> list[dict]:
        return [p for name, p in sorted(self.pods.items()) if p["metadata"]["labels"].get("spark-role") == role]

    def __enter__(self) -> "PodWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def app_status(cluster: Cluster, name: str) -> dict:
    return cluster.get("sparkapplication", name, "-n", NAMESPACE).get("status", {})


def wait_state(cluster: Cluster, name: str, states: set[str], seconds: float) -> dict:
    """Wait until SparkApplication NAME reaches one of STATES; its status. AssertionError on FAILED or timeout."""
    deadline = time.monotonic() + seconds
    status: dict = {}
    while time.monotonic() < deadline:
        try:
            status = app_status(cluster, name)
        except RuntimeError:
            status = {}
        state = status.get("applicationState", {}).get("state")
        if state in states:
            return status
        if state == "FAILED":
            raise AssertionError(f"{name} FAILED: {status}\n{driver_log(cluster, name)}")
        time.sleep(3)
    raise AssertionError(f"{name} did not reach {states} in {seconds:.0f}s: {status}\n{driver_log(cluster, name)}")


def driver_log(cluster: Cluster, app: str) -> str:
    out = cluster.kubectl("logs", "-n", NAMESPACE, f"{app}-driver", "--tail=60", check=False, timeout=30)
    return out.stdout + out.stderr


def driver_tasks(cluster: Cluster, pod_ip: str) -> tuple[int, int]:
    """(completed, active) tasks from the driver's REST API on the pod IP; (-1, -1) while it does not answer."""
    out = cluster.run("python3", "-c", _DRIVER_TASKS, pod_ip, check=False, timeout=20)
    if out.returncode != 0:
        return -1, -1
    done, active = json.loads(out.stdout)
    return done, active


def s3_env(cluster: Cluster, work: Path) -> dict[str, str]:
    """AWS settings for SeaweedFS in the cluster, through its Service's ClusterIP (reachable inside the namespace)."""
    ip = cluster.get("service", "seaweedfs", "-n", NAMESPACE)["spec"]["clusterIP"]
    keys = dict(line.split("=", 1) for line in (work / "s3.env").read_text().split())
    return {**cluster.env(), **keys, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": f"http://{ip}:8333"}


def fetch_output(cluster: Cluster, work: Path, python: str, url: str, dest: Path) -> Path:
    """Download everything under s3://bucket/prefix (URL) into DEST; returns DEST/prefix."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    cluster.run(python, "-c", _FETCH, bucket, prefix, str(dest), env=s3_env(cluster, work), timeout=300)
    return dest / prefix


def delete_output(cluster: Cluster, work: Path, python: str, url: str) -> None:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    code = ("import sys, boto3\nb = boto3.resource('s3').Bucket(sys.argv[1])\n"
            "b.objects.filter(Prefix=sys.argv[2] + '/').delete()\n")
    cluster.run(python, "-c", code, bucket, prefix, env=s3_env(cluster, work), timeout=120)


def readable_rows(directory: Path, bank_marker: str) -> list[tuple]:
    """Canonical rows of the parquet files a reader would load (paths with `_`/`.` parts such as __magic skipped)."""
    files = [p for p in sorted(directory.rglob("*.parquet"))
             if not any(part.startswith(("_", ".")) for part in p.relative_to(directory).parts)]
    frames = [f for f in (pd.read_parquet(f) for f in files) if len(f)]
    return canonical_rows(pd.concat(frames, ignore_index=True), bank_marker) if frames else []


def float_columns(directory: Path, bank_marker: str) -> dict[str, np.ndarray]:
    """{bank-relative path: FLOAT_COLUMNS values} of a dataset (one entry per row; a duplicate path would collide,
    which the exact row comparison catches)."""
    files = [p for p in sorted(directory.rglob("*.parquet"))
             if not any(part.startswith(("_", ".")) for part in p.relative_to(directory).parts)]
    out = {}
    for f in files:
        frame = pd.read_parquet(f)
        for path, *values in frame[["path", *FLOAT_COLUMNS]].itertuples(index=False):
            out[str(path).split(bank_marker, 1)[-1]] = np.concatenate([np.asarray(v, dtype=float) for v in values])
    return out


# PCA output: Spark's distributed PCA sums in partition order, so its last bits depend on the partitioning
# (tests/spark/test_reduction.py allows the same 1e-9); every other column must be identical.
FLOAT_COLUMNS = ("features",)


def canonical_rows(frame: pd.DataFrame, bank_marker: str) -> list[tuple]:
    """Rows with `path` relative to the bank, every column but FLOAT_COLUMNS and the source's modification time (a
    file on disk and its S3 object have different clocks), sorted (duplicates kept)."""
    frame = frame.drop(columns=["source_mtime"], errors="ignore")
    frame["path"] = frame["path"].astype(str).str.split(bank_marker, n=1).str[-1]
    columns = sorted(c for c in frame.columns if c not in FLOAT_COLUMNS)
    return sorted(tuple(repr(v.tolist() if hasattr(v, "tolist") else v) for v in row)
                  for row in frame[columns].itertuples(index=False))


def run_output(directory: Path, bank_marker: str) -> dict[str, Any]:
    """features and errors rows and the manifest of a finished run's output directory."""
    return {"features": readable_rows(directory / "features", bank_marker),
            "pca": float_columns(directory / "features", bank_marker),
            "errors": readable_rows(directory / "errors", bank_marker),
            "manifest": json.loads((directory / "manifest.json").read_text())}
