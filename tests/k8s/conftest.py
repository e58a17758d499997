"""Session fixtures of the local-cluster tests: one cluster (tests/k8s/localcluster.py), spark-operator, S3 and bank.

Collected only with K8S_TEST=1 (`make k8s-test`, the second half of `make test`): the cluster needs root,
about 5 minutes of builds on a cold cache and both cores for several minutes. Everything it starts is removed at the end, pass or fail, and the
session fails if anything is left behind.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import ROOT, require

if os.environ.get("K8S_TEST") != "1":
    collect_ignore_glob = ["test_*.py"]

JOB_NAMESPACE = "fruit-pipeline"
LOGS = ROOT / ".cache" / "k8s" / "last-run-logs"


@pytest.fixture(scope="session")
def helm_path() -> str:
    local = ROOT / ".cache" / "bin" / "helm"
    require(local.is_file(), "helm", "make helm")
    return str(local)


@pytest.fixture(scope="session")
def cluster(helm_path):
    """The running cluster with spark-operator installed; torn down and checked for leftovers at the end."""
    from . import spark_operator
    from .images import ensure_archives
    from .localcluster import missing_components, running_cluster

    require(os.geteuid() == 0, "root (network namespaces, containerd, kubelet)", "run make k8s-test as root")
    missing = missing_components()
    require(not missing, f"the local cluster's components ({', '.join(missing)})", "make k8s-deps")
    require(spark_operator.BINARY.exists(), "spark-operator", "bash tests/k8s/build-spark-operator.sh")
    started = time.monotonic()
    archives = ensure_archives()
    print(f"\nimages ready in {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    with running_cluster(archives, keep_logs=LOGS) as c:
        spark_operator.install(c, helm_path, JOB_NAMESPACE)
        print(f"cluster + spark-operator up in {time.monotonic() - started:.0f}s")
        yield c
    assert c.leftovers == [], f"left behind after teardown: {c.leftovers}"  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def steps_env(cluster, helm_path, tmp_path_factory) -> dict[str, str]:
    """Environment for k8s/kind/steps.sh against this cluster (local SeaweedFS image, shared $WORK)."""
    from .images import SEAWEEDFS_IMAGE

    work = tmp_path_factory.mktemp("e2e-work")
    return {**cluster.env(), "WORK": str(work), "NAMESPACE": JOB_NAMESPACE, "HELM": helm_path,
            "VENV_BIN": str(Path(os.sys.executable).parent), "SEAWEEDFS_IMAGE": SEAWEEDFS_IMAGE,
            "PATH": f"{Path(os.sys.executable).parent}:{os.environ['PATH']}"}


def steps(cluster, env: dict[str, str], *names: str, timeout: float = 1500, **extra: str):
    """Run k8s/kind/steps.sh NAMES inside the cluster's network namespace; RuntimeError with its output on failure."""
    return cluster.run("bash", str(ROOT / "k8s" / "kind" / "steps.sh"), *names, env={**env, **extra}, timeout=timeout)


@pytest.fixture(scope="session")
def bank_in_s3(cluster, steps_env) -> Path:
    """SeaweedFS running in the cluster with the sample bank uploaded to s3://fruit-bank/sample; the local bank."""
    steps(cluster, steps_env, "install_s3", "upload_sample")
    return Path(steps_env["WORK"]) / "bank"
