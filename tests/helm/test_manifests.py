"""Committed k8s/ manifests equal the chart's rendering; the kind files are valid and the e2e script lint-clean."""

from __future__ import annotations

import os
import shutil
import subprocess

import kubernetes_validate
import yaml

from conftest import ROOT, require

from .conftest import KUBE_VERSION

K8S = ROOT / "k8s"
TARGETS = ("kind", "eks")


def test_committed_manifests_match_the_chart(helm_bin, tmp_path):
    result = subprocess.run(["bash", str(K8S / "render-manifests.sh"), str(tmp_path)], capture_output=True, text=True,
                            env={**os.environ, "HELM": helm_bin, "KUBE_VERSION": KUBE_VERSION}, timeout=120)
    assert result.returncode == 0, result.stderr
    for target in TARGETS:
        fresh = (tmp_path / target / "fruit-pipeline.yaml").read_text()
        committed = (K8S / target / "fruit-pipeline.yaml").read_text()
        assert committed == fresh, f"k8s/{target}/fruit-pipeline.yaml drifted from the chart: run `make manifests`"
        kinds = [d["kind"] for d in yaml.safe_load_all(committed) if d]
        assert "SparkApplication" in kinds and "Role" in kinds


def test_kind_cluster_config_and_s3_manifest():
    cluster = yaml.safe_load((K8S / "kind" / "cluster.yaml").read_text())
    assert (cluster["apiVersion"], cluster["kind"]) == ("kind.x-k8s.io/v1alpha4", "Cluster")
    assert [n["role"] for n in cluster["nodes"]] == ["control-plane", "worker", "worker"]
    docs = [d for d in yaml.safe_load_all((K8S / "kind" / "seaweedfs.yaml").read_text()) if d]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    assert {d["kind"] for d in docs} == {"Deployment", "Service"}
    values = yaml.safe_load((ROOT / "helm" / "fruit-pipeline" / "values-kind.yaml").read_text())
    worker_labels = [n["labels"] for n in cluster["nodes"] if n["role"] == "worker"]
    assert values["driver"]["nodeSelector"] in worker_labels and values["executor"]["nodeSelector"] in worker_labels
    service = next(d for d in docs if d["kind"] == "Service")
    assert values["s3"]["endpoint"] == f"http://{service['metadata']['name']}.fruit-pipeline.svc.cluster.local:" \
                                       f"{service['spec']['ports'][0]['port']}"


def test_shell_scripts_are_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")
    require(shellcheck is not None, "shellcheck", "bash tests/infra/install-system-deps.sh (apt-get install shellcheck)")
    scripts = [K8S / "kind" / "e2e.sh", K8S / "kind" / "steps.sh", K8S / "render-manifests.sh",
               ROOT / "tests" / "infra" / "install-helm.sh", *sorted((ROOT / "tests" / "k8s").glob("*.sh"))]
    result = subprocess.run([shellcheck, "--severity=style", "--external-sources", *map(str, scripts)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout
