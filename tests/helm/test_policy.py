"""Policy on every rendering: non-root, no capabilities, resources set, no credentials, least-privilege RBAC."""

from __future__ import annotations

import re

import pytest

from .conftest import CHART, all_objects, app_spec, by_kind

ROLES = ("driver", "executor")
ALLOWED_RESOURCES = {"pods", "services", "configmaps", "persistentvolumeclaims"}
ALLOWED_VERBS = {"get", "list", "watch", "create", "patch", "delete", "deletecollection"}
CREDENTIAL_PATTERNS = [
    re.compile(r"\bA(KIA|SIA)[0-9A-Z]{16}\b"),                      # AWS access key ids
    re.compile(r"(?i)aws_secret_access_key['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9/+]"),  # a key given a value
    re.compile(r"(?i)(secret|password|token)[\w.-]*\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{16,}"),  # inline secrets
    re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),  # secret-key shaped strings
]
SECRET_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def _pods(objects):
    for name, docs in objects.items():
        spec = app_spec(docs)
        for role in ROLES:
            yield f"{name}/{role}", spec[role]


def test_pods_run_non_root_without_capabilities(objects):
    for where, pod in _pods(objects):
        assert pod["podSecurityContext"]["runAsNonRoot"] is True, where
        assert pod["podSecurityContext"]["runAsUser"] > 0, where
        assert pod["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        container = pod["securityContext"]
        assert container["capabilities"] == {"drop": ["ALL"]}, where
        assert container["allowPrivilegeEscalation"] is False, where
        assert container.get("privileged", False) is False, where
        assert container["runAsNonRoot"] is True, where


def test_default_user_is_the_image_user(objects):
    for where, pod in _pods({k: v for k, v in objects.items() if not k.startswith("emr")}):
        assert pod["podSecurityContext"]["runAsUser"] == pod["securityContext"]["runAsUser"] == 185, where


def test_resources_are_set(objects):
    for where, pod in _pods(objects):
        assert pod["cores"] >= 1 and pod["coreLimit"] and pod["memory"] and pod["memoryOverhead"], where
    for name, docs in objects.items():
        spec = app_spec(docs)
        bounded = spec["executor"].get("instances") or spec.get("dynamicAllocation", {}).get("maxExecutors")
        assert bounded, name


def test_no_credential_value_in_values_or_manifests(rendered):
    texts = {f"rendered {k}": v for k, v in rendered.items()}
    texts.update({p.name: p.read_text() for p in CHART.glob("values*.yaml")})
    texts.update({p.name: p.read_text() for p in (CHART.parent.parent / "k8s").rglob("*.yaml")})
    for where, text in texts.items():
        for pattern in CREDENTIAL_PATTERNS:
            assert not pattern.search(text), f"{where}: {pattern.pattern} matches {pattern.search(text).group(0)!r}"


def test_credential_patterns_catch_real_looking_keys():
    leak = "env:\n- name: AWS_SECRET_ACCESS_KEY\n  value: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    assert sum(bool(p.search(leak)) for p in CREDENTIAL_PATTERNS) >= 1
    assert CREDENTIAL_PATTERNS[1].search("[default]\naws_secret_access_key = abc")
    assert CREDENTIAL_PATTERNS[1].search('{"AWS_SECRET_ACCESS_KEY": "abc"}')
    assert CREDENTIAL_PATTERNS[0].search("AKIAIOSFODNN7EXAMPLE")


def test_credentials_only_from_secret_references(objects):
    for where, pod in _pods(objects):
        for env in pod.get("env", []):
            if env["name"] in SECRET_ENV:
                assert set(env) == {"name", "valueFrom"}, where
                assert set(env["valueFrom"]) == {"secretKeyRef"}, where
    kind_env = {e["name"]: e for e in app_spec(objects["kind"])["driver"]["env"]}
    assert kind_env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "fruit-pipeline-s3", "key": "AWS_SECRET_ACCESS_KEY"}
    assert not SECRET_ENV & {e["name"] for e in app_spec(objects["eks"])["driver"].get("env", [])}


def test_rbac_is_namespaced_and_least_privilege(objects):
    kinds = {doc["kind"] for _, doc in all_objects(objects)}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    roles = [(name, doc) for name, doc in all_objects(objects) if doc["kind"] == "Role"]
    assert len(roles) == 5  # every variant but emr-spark-operator (EMR's chart brings its own)
    for name, role in roles:
        for rule in role["rules"]:
            assert rule["apiGroups"] == [""], name
            assert set(rule["resources"]) <= ALLOWED_RESOURCES, name
            assert set(rule["verbs"]) <= ALLOWED_VERBS, name
        granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
        assert {("pods", "create"), ("pods", "watch"), ("pods", "delete"), ("configmaps", "create"),
                ("services", "create")} <= granted, name


@pytest.mark.parametrize("variant", ["default", "kind", "eks"])
def test_role_is_bound_to_the_pods_service_account(objects, variant):
    docs = objects[variant]
    binding = by_kind(docs, "RoleBinding")[0]
    account = by_kind(docs, "ServiceAccount")[0]["metadata"]["name"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": by_kind(docs, "Role")[0]["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "fruit-pipeline"}]
    spec = app_spec(docs)
    assert spec["driver"]["serviceAccount"] == spec["executor"]["serviceAccount"] == account


def test_every_object_has_the_standard_labels(objects):
    for name, doc in all_objects(objects):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "fruit-pipeline", name
        assert labels["app.kubernetes.io/instance"] == "fruit-pipeline", name
        assert labels["app.kubernetes.io/managed-by"] == "Helm", name
        assert labels["app.kubernetes.io/version"] == "0.1.0", name
