"""Fixtures for the chart tests: the real helm CLI (tests/infra/install-helm.sh) and renderings of the chart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, require

CHART = ROOT / "helm" / "fruit-pipeline"
KUBE_VERSION = "1.33.0"
# Rendering name -> helm arguments; every values file plus the cron and all-monitoring variant.
VARIANTS = {
    "default": [],
    "kind": ["--values", str(CHART / "values-kind.yaml")],
    "eks": ["--values", str(CHART / "values-eks.yaml")],
    "emr-spark-operator": ["--values", str(CHART / "values-emr-spark-operator.yaml")],
    "history": ["--values", str(CHART / "values-kind.yaml"), "--set", "history.enabled=true",
                "--set", "eventLog.dir=s3a://fruit-logs/spark-events"],
    "scheduled": ["--set", "schedule.enabled=true", "--set", "metrics.podMonitor.enabled=true",
                  "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.grafanaDashboard.enabled=true"],
}


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """The helm binary `make helm` installs into .cache/bin, else one on PATH."""
    local = ROOT / ".cache" / "bin" / "helm"
    found = str(local) if local.is_file() else shutil.which("helm")
    require(found is not None, "helm", "bash tests/infra/install-helm.sh (or make helm)")
    return found


def helm(helm_bin: str, *args: str) -> subprocess.CompletedProcess:
    """Run helm with ARGS, capturing output."""
    return subprocess.run([helm_bin, *args], capture_output=True, text=True, timeout=120)


def template(helm_bin: str, *args: str) -> subprocess.CompletedProcess:
    """`helm template` of the chart as release `fruit-pipeline` in namespace `fruit-pipeline`."""
    return helm(helm_bin, "template", "fruit-pipeline", str(CHART), "--namespace", "fruit-pipeline",
                "--kube-version", KUBE_VERSION, *args)


@pytest.fixture(scope="session")
def rendered(helm_bin) -> dict[str, str]:
    """Rendered YAML text per variant (one helm call each)."""
    out = {}
    for name, args in VARIANTS.items():
        result = template(helm_bin, *args)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        out[name] = result.stdout
    return out


@pytest.fixture(scope="session")
def objects(rendered) -> dict[str, list[dict]]:
    """Rendered objects per variant."""
    return {name: [doc for doc in yaml.safe_load_all(text) if doc] for name, text in rendered.items()}


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def app_spec(docs: list[dict]) -> dict:
    """The SparkApplication spec of a rendering (the template of a ScheduledSparkApplication)."""
    apps = by_kind(docs, "SparkApplication")
    if apps:
        return apps[0]["spec"]
    return by_kind(docs, "ScheduledSparkApplication")[0]["spec"]["template"]


def all_objects(objects: dict[str, list[dict]]) -> list[tuple[str, dict]]:
    return [(name, doc) for name, docs in objects.items() for doc in docs]


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
