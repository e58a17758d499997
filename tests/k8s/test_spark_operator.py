"""The product's Kubernetes path on a real cluster: the chart and the committed manifests, run to COMPLETED by
spark-operator, with executor and driver pods deleted mid-run, a cron schedule and the monitoring objects."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, run_cli

from .conftest import steps
from .localcluster import NODE_NAME
from .harness import (APP_LABEL, NAMESPACE, PodWatcher, app_status, driver_tasks, fetch_output,
                      run_output, wait_state)

CHART = ROOT / "helm" / "fruit-pipeline"
LOCAL_VALUES = ROOT / "tests" / "k8s" / "values-local-cluster.yaml"
RUN_SECONDS = 1500
PYTHON = sys.executable
JOB_PARAMS = ("--orb-features", "--partitions-per-core", "--arrow-batch-size", "--vocabulary-size", "--pca-components")


def values(*files: Path) -> dict:
    """Helm's merge of values files (maps merged, null deletes a key)."""
    def merge(base: dict, over: dict) -> dict:
        out = copy.deepcopy(base)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out
    merged: dict = {}
    for f in files:
        merged = merge(merged, yaml.safe_load(f.read_text()) or {})
    return merged


CHART_VALUES = values(CHART / "values.yaml", CHART / "values-kind.yaml", LOCAL_VALUES)


@pytest.fixture(scope="module")
def local_reference(bank_in_s3: Path, tmp_path_factory) -> dict:
    """The same job with the same parameters on one machine (local[2], local disk)."""
    manifest = [d for d in yaml.safe_load_all((ROOT / "k8s" / "kind" / "fruit-pipeline.yaml").read_text())
                if d and d["kind"] == "SparkApplication"][0]
    args = manifest["spec"]["arguments"]
    params = [x for i, a in enumerate(args) if a in JOB_PARAMS for x in (a, args[i + 1])]
    out = tmp_path_factory.mktemp("k8s-local") / "out"
    started = time.monotonic()
    done = run_cli("run", "--input", str(bank_in_s3), "--output", str(out), "--master", "local[2]", *params,
                   "--no-metrics", timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"\nlocal reference run: {time.monotonic() - started:.0f}s")
    return run_output(out, "/bank/")


def helm_run(cluster, steps_env, output: str, *sets: str, release: str = "fruit-pipeline") -> None:
    """`helm install` of the chart with the kind and local-cluster values (steps.sh install_chart), plus the output
    prefix and SETS (key=YAML value) in a values file of the test's own."""
    overrides = set_values(sets)
    overrides.setdefault("job", {})["output"] = output.replace("s3://", "s3a://")
    path = Path(steps_env["WORK"]) / f"{release}-overrides.yaml"
    path.write_text(yaml.safe_dump(overrides))
    cluster.kubectl("label", "node", NODE_NAME, "fruit-pipeline/capacity=local", "--overwrite")
    steps(cluster, {**steps_env, "RELEASE": release, "VALUES": f"{LOCAL_VALUES} {path}"}, "install_chart")


def set_values(sets: tuple[str, ...]) -> dict:
    """{"a.b=1", ...} as nested values."""
    out: dict = {}
    for item in sets:
        key, _, raw = item.partition("=")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError:  # e.g. a cron expression: "* * * * *" is not YAML
            node[parts[-1]] = raw
    return out


def helm_uninstall(cluster, steps_env, release: str = "fruit-pipeline") -> None:
    cluster.run(steps_env["HELM"], "uninstall", release, "--namespace", NAMESPACE, "--wait", env=steps_env,
                check=False)
    cluster.kubectl("delete", "pods", "-n", NAMESPACE, "-l", "spark-role", "--wait=true", "--timeout=60s",
                    check=False)


def read_run(cluster, steps_env, url: str, tmp_path: Path) -> dict:
    out = fetch_output(cluster, Path(steps_env["WORK"]), PYTHON, url, tmp_path / "s3")
    return run_output(out, "/sample/")


def assert_same_output(got: dict, reference: dict) -> None:
    assert len(got["features"]) == reference["manifest"]["counts"]["features_rows"]
    assert got["features"] == reference["features"]
    assert got["pca"].keys() == reference["pca"].keys()
    for path, values in got["pca"].items():
        np.testing.assert_allclose(values, reference["pca"][path], rtol=0, atol=1e-9, err_msg=path)
    assert got["errors"] == reference["errors"]
    assert got["manifest"]["counts"] == reference["manifest"]["counts"]


def pod_fields(pod: dict) -> dict:
    """What the tests compare of a live pod, read back from the API server."""
    spec = pod["spec"]
    container = spec["containers"][0]
    return {"serviceAccountName": spec["serviceAccountName"], "podSecurityContext": spec.get("securityContext", {}),
            "securityContext": container.get("securityContext", {}), "labels": pod["metadata"]["labels"],
            "resources": container.get("resources", {}), "tolerations": spec.get("tolerations", []),
            "nodeSelector": spec.get("nodeSelector", {}), "nodeName": spec.get("nodeName"),
            "image": container["image"], "ports": container.get("ports", [])}


def expected_resources(role: str) -> dict:
    """Requests/limits spark-operator and Spark derive from the values: memory + overhead, the request cores."""
    pod = CHART_VALUES[role]
    memory = int(pod["memory"].rstrip("g")) * 1024 + int(pod["memoryOverhead"].rstrip("m"))
    request = CHART_VALUES["sparkConf"][f"spark.kubernetes.{role}.request.cores"]
    return {"requests": {"cpu": request, "memory": f"{memory}Mi"},
            "limits": {"cpu": pod["coreLimit"], "memory": f"{memory}Mi"}}


# ---------------------------------------------------------------------------------------------- 1 and 2


def test_helm_install_completes_with_the_charts_pod_settings(cluster, steps_env, bank_in_s3, local_reference,
                                                               tmp_path):
    output = "s3://fruit-features/helm"
    with PodWatcher(cluster, f"{APP_LABEL}=fruit-pipeline") as pods:
        started = time.monotonic()
        helm_run(cluster, steps_env, output)
        wait_state(cluster, "fruit-pipeline", {"COMPLETED"}, RUN_SECONDS)
        print(f"\nhelm install -> COMPLETED: {time.monotonic() - started:.0f}s")
    steps(cluster, steps_env, "check_output", OUTPUT=output)
    assert_same_output(read_run(cluster, steps_env, output, tmp_path), local_reference)

    drivers, executors = pods.role("driver"), pods.role("executor")
    assert len(drivers) == 1 and len(executors) >= 1, sorted(pods.pods)
    for role, pod in (("driver", drivers[0]), ("executor", executors[0])):
        got = pod_fields(pod)
        assert got["serviceAccountName"] == "fruit-pipeline"
        assert got["podSecurityContext"] == CHART_VALUES["podSecurityContext"], role
        assert got["securityContext"] == CHART_VALUES["securityContext"], role
        assert {"app.kubernetes.io/name": "fruit-pipeline", "app.kubernetes.io/instance": "fruit-pipeline",
                "app.kubernetes.io/component": role, "app.kubernetes.io/part-of": "fruit-pipeline",
                "fruit-pipeline/test": "local-cluster"}.items() <= got["labels"].items(), role
        assert got["resources"] == expected_resources(role), role
        for toleration in CHART_VALUES[role]["tolerations"]:
            assert toleration in got["tolerations"], role
        assert got["nodeSelector"] == {"fruit-pipeline/capacity": "local", "kubernetes.io/hostname": NODE_NAME}
        assert got["nodeName"] == NODE_NAME
        assert got["image"] == "fruit-pipeline:dev"
    assert {"name": "job-metrics", "containerPort": 9108, "protocol": "TCP"} in pod_fields(drivers[0])["ports"]
    helm_uninstall(cluster, steps_env)


def local_substitutions(doc: dict) -> dict:
    """The only changes the committed kind manifests need here: one node instead of kind's two labelled workers, and
    CPU requests below one core so that driver, executor and SeaweedFS fit on its two CPUs."""
    doc = copy.deepcopy(doc)
    if doc["kind"] == "SparkApplication":
        for role in ("driver", "executor"):
            doc["spec"][role].pop("nodeSelector", None)
            doc["spec"]["sparkConf"][f"spark.kubernetes.{role}.request.cores"] = "700m"
    return doc


def test_kubectl_apply_of_the_committed_manifests_completes(cluster, steps_env, bank_in_s3, local_reference,
                                                             tmp_path):
    docs = [local_substitutions(d) for d in yaml.safe_load_all((ROOT / "k8s" / "kind" / "fruit-pipeline.yaml")
                                                                   .read_text()) if d]
    applied = yaml.safe_dump_all(docs)
    with PodWatcher(cluster, f"{APP_LABEL}=fruit-pipeline") as pods:
        started = time.monotonic()
        cluster.kubectl("apply", "-f", "-", input=applied)
        steps(cluster, steps_env, "wait_completed", APP="fruit-pipeline", TIMEOUT_S=str(RUN_SECONDS))
        print(f"\nkubectl apply -> COMPLETED: {time.monotonic() - started:.0f}s")
    steps(cluster, steps_env, "check_output", OUTPUT="s3://fruit-features/sample")
    assert_same_output(read_run(cluster, steps_env, "s3://fruit-features/sample", tmp_path), local_reference)
    driver = pod_fields(pods.role("driver")[0])
    executor = pod_fields(pods.role("executor")[0])
    assert driver["serviceAccountName"] == executor["serviceAccountName"] == "fruit-pipeline"
    assert driver["podSecurityContext"]["runAsUser"] == executor["securityContext"]["runAsUser"] == 185
    cluster.kubectl("delete", "-f", "-", "--wait=true", input=applied)


# ---------------------------------------------------------------------------------------------- 3 and 4


def wait_mid_run(cluster, pods: PodWatcher, app: str, min_done: int = 2, seconds: float = 900) -> tuple[str, int]:
    """Wait until the driver has finished MIN_DONE tasks and still runs some; (driver pod IP, completed tasks)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        drivers = [p for p in pods.role("driver") if p["status"].get("podIP")]
        if drivers:
            ip = drivers[0]["status"]["podIP"]
            done, active = driver_tasks(cluster, ip)
            if done >= min_done and active > 0:
                return ip, done
        time.sleep(1)
    raise AssertionError(f"{app}: no moment with {min_done} finished and running tasks in {seconds}s")


def test_executor_deleted_mid_run_completes_identically(cluster, steps_env, bank_in_s3, local_reference, tmp_path):
    output = "s3://fruit-features/executor-lost"
    with PodWatcher(cluster, f"{APP_LABEL}=fruit-pipeline", interval=1) as pods:
        helm_run(cluster, steps_env, output)
        _, done = wait_mid_run(cluster, pods, "fruit-pipeline")
        victim = [p for p in pods.role("executor") if p["status"].get("phase") == "Running"][0]["metadata"]["name"]
        cluster.kubectl("delete", "pod", "-n", NAMESPACE, victim, "--grace-period=0", "--force")
        print(f"\ndeleted {victim} after {done} tasks")
        wait_state(cluster, "fruit-pipeline", {"COMPLETED"}, RUN_SECONDS)
    got = read_run(cluster, steps_env, output, tmp_path)
    assert_same_output(got, local_reference)
    status = got["manifest"]["spark_status"]
    assert status["executors_lost"] >= 1 and status["executors"] >= 2, status
    assert victim not in [p["metadata"]["name"] for p in pods.role("executor")[-1:]]
    helm_uninstall(cluster, steps_env)


def test_driver_deleted_mid_run_is_resubmitted_and_completes_identically(cluster, steps_env, bank_in_s3,
                                                                         local_reference, tmp_path):
    output = "s3://fruit-features/driver-lost"
    with PodWatcher(cluster, f"{APP_LABEL}=fruit-pipeline", interval=1) as pods:
        helm_run(cluster, steps_env, output)
        _, done = wait_mid_run(cluster, pods, "fruit-pipeline")
        first = app_status(cluster, "fruit-pipeline")
        cluster.kubectl("delete", "pod", "-n", NAMESPACE, "fruit-pipeline-driver", "--grace-period=0", "--force")
        print(f"\ndeleted the driver after {done} tasks")
        status = wait_state(cluster, "fruit-pipeline", {"COMPLETED"}, RUN_SECONDS)
    assert status["submissionID"] != first["submissionID"], "the operator did not resubmit"
    got = read_run(cluster, steps_env, output, tmp_path)
    assert_same_output(got, local_reference)  # sorted rows with duplicates kept: no row twice, none missing
    helm_uninstall(cluster, steps_env)


# ---------------------------------------------------------------------------------------------- 5 and 6


def test_scheduled_application_fires_and_its_run_completes(cluster, steps_env, bank_in_s3, local_reference,
                                                           tmp_path):
    output = "s3://fruit-features/scheduled"
    release = "fruit-pipeline-nightly-eu-west-1-prod-rebuild"  # the public report's release: run names hit 63
    helm_run(cluster, steps_env, output, "schedule.enabled=true", "schedule.cron=* * * * *",
             "schedule.concurrencyPolicy=Forbid", release=release)
    scheduled = cluster.get("scheduledsparkapplication", "-n", NAMESPACE)["items"]
    assert len(scheduled) == 1 and len(scheduled[0]["metadata"]["name"]) <= 43
    name = scheduled[0]["metadata"]["name"]
    deadline = time.monotonic() + 150
    runs: list[dict] = []
    while time.monotonic() < deadline and not runs:
        runs = cluster.get("sparkapplication", "-n", NAMESPACE, "-l",
                           f"sparkoperator.k8s.io/scheduled-app-name={name}")["items"]
        time.sleep(3)
    assert runs, f"{name} did not fire within 150 s: {cluster.get('scheduledsparkapplication', name, '-n', NAMESPACE)}"
    run = runs[0]["metadata"]["name"]
    assert len(run) == 63 and run.startswith(name + "-")
    cluster.kubectl("patch", "scheduledsparkapplication", name, "-n", NAMESPACE, "--type=merge",
                    "-p", '{"spec": {"suspend": true}}')  # one run is enough
    wait_state(cluster, run, {"COMPLETED"}, RUN_SECONDS)
    assert_same_output(read_run(cluster, steps_env, output, tmp_path), local_reference)
    helm_uninstall(cluster, steps_env, release)


def prometheus_operator_crds() -> list[Path]:
    """PodMonitor and PrometheusRule CRDs from the prometheus-operator Go module (the proxy serves it)."""
    version = "v0.85.0"  # the newest the Go module proxy lists
    done = subprocess.run(["go", "mod", "download", "-json", f"github.com/prometheus-operator/prometheus-operator@{version}"],
                          capture_output=True, text=True, timeout=600, cwd="/")
    assert done.returncode == 0, done.stderr
    crds = Path(json.loads(done.stdout)["Dir"]) / "example" / "prometheus-operator-crd"
    return [crds / "monitoring.coreos.com_podmonitors.yaml", crds / "monitoring.coreos.com_prometheusrules.yaml"]


def test_pod_monitor_and_prometheus_rule_are_accepted(cluster, steps_env):
    for crd in prometheus_operator_crds():
        cluster.kubectl("apply", "--server-side", "-f", str(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd/podmonitors.monitoring.coreos.com",
                    "crd/prometheusrules.monitoring.coreos.com", "--timeout=60s")
    rendered = cluster.run(steps_env["HELM"], "template", "fruit-pipeline", str(CHART), "--namespace", NAMESPACE,
                           "--values", str(CHART / "values-kind.yaml"), "--set", "metrics.podMonitor.enabled=true",
                           "--set", "metrics.prometheusRule.enabled=true", env=steps_env).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] in ("PodMonitor", "PrometheusRule")]
    assert sorted(d["kind"] for d in docs) == ["PodMonitor", "PrometheusRule"]
    cluster.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(docs))
    for doc in docs:
        live = cluster.get(doc["kind"].lower(), doc["metadata"]["name"], "-n", NAMESPACE)
        assert live["spec"] == doc["spec"], doc["kind"]  # nothing pruned by the CRD schema
    cluster.kubectl("delete", "-n", NAMESPACE, "-f", "-", input=yaml.safe_dump_all(docs))
