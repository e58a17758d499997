"""Names the chart derives fit Kubernetes' limits, including spark-operator's <name>-<19-digit timestamp> runs."""

from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from .conftest import CHART, KUBE_VERSION, by_kind, helm

# The release from the public report: 45 characters, so every scheduled run got a 65-character name.
LONG_RELEASE = "fruit-pipeline-nightly-eu-west-1-prod-rebuild"
RUN_SUFFIX = "-" + "1" * 19  # spark-operator's run name: <ScheduledSparkApplication name>-<nanosecond timestamp>
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # Kubernetes label-value syntax
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MONITORING = ["--set", "metrics.podMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true",
              "--set", "metrics.grafanaDashboard.enabled=true"]


def render(helm_bin: str, release: str, *args: str) -> list[dict]:
    """Objects of `helm template RELEASE` with every derived object switched on."""
    result = helm(helm_bin, "template", release, str(CHART), "--namespace", "fruit-pipeline",
                  "--kube-version", KUBE_VERSION, *MONITORING, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def fitted(name: str, limit: int) -> str:
    """The chart's rule, restated: whole when it fits, else a prefix, '-' and 8 hex digits of sha256(name)."""
    if len(name) <= limit:
        return name
    return name[: limit - 9].rstrip("-") + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def label_problems(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v!r}" for k, v in labels.items() if len(v) > 63 or not LABEL_VALUE.match(v)]


def test_scheduled_run_names_fit_a_label_value(helm_bin):
    scheduled = by_kind(render(helm_bin, LONG_RELEASE, "--set", "schedule.enabled=true"), "ScheduledSparkApplication")
    name = scheduled[0]["metadata"]["name"]
    assert name == fitted(LONG_RELEASE, 43) == "fruit-pipeline-nightly-eu-west-1-p-" + \
        hashlib.sha256(LONG_RELEASE.encode()).hexdigest()[:8]
    run_name = name + RUN_SUFFIX
    # spark-operator labels the run's pods sparkoperator.k8s.io/app-name=<run name>: the fault was 65 characters.
    assert len(run_name) == 63 and label_problems({"sparkoperator.k8s.io/app-name": run_name}) == []
    assert DNS_LABEL.match(run_name)


def test_long_names_are_stable_and_distinct(helm_bin):
    first = render(helm_bin, LONG_RELEASE, "--set", "schedule.enabled=true")
    again = render(helm_bin, LONG_RELEASE, "--set", "schedule.enabled=true")
    sibling = render(helm_bin, LONG_RELEASE[:-1] + "x", "--set", "schedule.enabled=true")
    names = [d["metadata"]["name"] for d in first]
    assert names == [d["metadata"]["name"] for d in again]
    assert set(names).isdisjoint(d["metadata"]["name"] for d in sibling)


def test_short_names_are_unchanged(helm_bin):
    names = {(d["kind"], d["metadata"]["name"]) for d in render(helm_bin, "fruit-pipeline", "--set",
                                                                  "schedule.enabled=true")}
    assert names == {("ServiceAccount", "fruit-pipeline"), ("Role", "fruit-pipeline-driver"),
                     ("RoleBinding", "fruit-pipeline-driver"), ("ScheduledSparkApplication", "fruit-pipeline"),
                     ("PodMonitor", "fruit-pipeline"), ("PrometheusRule", "fruit-pipeline"),
                     ("ConfigMap", "fruit-pipeline-dashboard")}


@pytest.mark.parametrize("args", [
    ["--set", "schedule.enabled=true"],
    [],
    ["--set", "fullnameOverride=" + "x" * 80, "--set", "schedule.enabled=true"],
    ["--set", "nameOverride=" + "n" * 70],
], ids=["scheduled", "one-off", "long-fullnameOverride", "long-nameOverride"])
def test_every_derived_name_and_label_fits(helm_bin, args):
    docs = render(helm_bin, LONG_RELEASE, *args)
    limit = 43 if "schedule.enabled=true" in args else 63
    problems = []
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] in ("SparkApplication", "ScheduledSparkApplication", "ServiceAccount", "PodMonitor",
                           "PrometheusRule"):
            problems += [f"{doc['kind']} {name}"] if len(name) > limit or not DNS_LABEL.match(name) else []
        problems += [f"{doc['kind']} {name}"] if len(name) > 63 or not DNS_LABEL.match(name) else []
        problems += label_problems(doc["metadata"].get("labels", {}))
        spec = doc.get("spec", {}).get("template", doc.get("spec", {}))
        for role in ("driver", "executor"):
            if role in spec:
                problems += label_problems(spec[role]["labels"])
                assert spec[role]["serviceAccount"] == by_kind(docs, "ServiceAccount")[0]["metadata"]["name"]
    binding = by_kind(docs, "RoleBinding")[0]
    assert binding["roleRef"]["name"] == by_kind(docs, "Role")[0]["metadata"]["name"]
    assert problems == []
