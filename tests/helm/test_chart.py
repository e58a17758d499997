"""helm lint/template on every values file; rendered objects validated against the CRDs and Kubernetes schemas."""

from __future__ import annotations

import copy
import json
from importlib.metadata import version

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import SCHEMAS, require
from fruit_pipeline.cli import build_parser, overrides_from_args
from fruit_pipeline.config import build_config
from fruit_pipeline.stages.metrics_conf import DRIVER_PATH, EXECUTORS_PATH
from fruit_pipeline.stages.spark_conf import spark_conf

from .conftest import CHART, KUBE_VERSION, VARIANTS, all_objects, app_spec, by_kind, helm, template

CRD_FILES = {
    "SparkApplication": "sparkoperator.k8s.io_sparkapplications.v2.5.2.yaml",
    "ScheduledSparkApplication": "sparkoperator.k8s.io_scheduledsparkapplications.v2.5.2.yaml",
}
CRD_KINDS = {"SparkApplication", "ScheduledSparkApplication", "PodMonitor", "PrometheusRule"}


def closed(schema: dict) -> dict:
    """Copy of a CRD schema where objects with listed properties refuse unknown fields (the API server
    would silently prune them, hiding typos)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@pytest.fixture(scope="module")
def crd_validators() -> dict[str, jsonschema.Draft7Validator]:
    require(all((SCHEMAS / f).is_file() for f in CRD_FILES.values()), "spark-operator v2.5.2 CRDs in ../shared/schemas",
            "check out the steering repository's shared/ folder beside this repository")
    validators = {}
    for kind, name in CRD_FILES.items():
        crd = yaml.safe_load((SCHEMAS / name).read_text())
        served = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta2")
        validators[kind] = jsonschema.Draft7Validator(closed(served["schema"]["openAPIV3Schema"]))
    return validators


@pytest.mark.parametrize("variant", ["default", "kind", "eks", "emr-spark-operator", "history"])
def test_lint_strict(helm_bin, variant):
    result = helm(helm_bin, "lint", "--strict", str(CHART), *VARIANTS[variant])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_each_variant_renders_one_application(objects):
    assert {name: [d["kind"] for d in docs if "SparkApplication" in d["kind"]] for name, docs in objects.items()} == {
        "default": ["SparkApplication"], "kind": ["SparkApplication"], "eks": ["SparkApplication"],
        "emr-spark-operator": ["SparkApplication"], "history": ["SparkApplication"],
        "scheduled": ["ScheduledSparkApplication"]}


def test_spark_applications_match_the_operator_crds(objects, crd_validators):
    checked = 0
    for name, doc in all_objects(objects):
        if doc["kind"] in CRD_FILES:
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in crd_validators[doc["kind"]].iter_errors(doc)]
            assert errors == [], f"{name} {doc['kind']}"
            checked += 1
    assert checked == len(VARIANTS)


def test_crd_validation_catches_a_misspelt_field(objects, crd_validators):
    doc = copy.deepcopy(by_kind(objects["default"], "SparkApplication")[0])
    doc["spec"]["executor"]["instance"] = doc["spec"]["executor"].pop("instances")
    doc["spec"]["restartPolicy"]["type"] = "Sometimes"
    messages = {e.message for e in crd_validators["SparkApplication"].iter_errors(doc)}
    assert any("'instance' was unexpected" in m for m in messages)
    assert any("'Sometimes' is not one of" in m for m in messages)


@pytest.mark.parametrize("kube_version", ["1.27.0", KUBE_VERSION, "1.37.0"])  # oldest allowed by kubeVersion .. newest
def test_other_objects_match_kubernetes_schemas(objects, kube_version):
    seen = set()
    for name, doc in all_objects(objects):
        if doc["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name} {doc['kind']}: {error.message} at {list(error.path)}")
        seen.add(doc["kind"])
    assert seen == {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service"}


def test_pod_monitor_scrapes_the_driver_metrics_endpoints(objects):
    monitor = by_kind(objects["scheduled"], "PodMonitor")[0]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    driver_labels = app_spec(objects["scheduled"])["driver"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= driver_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "driver"
    endpoints = {(e["port"], e["path"]) for e in monitor["spec"]["podMetricsEndpoints"]}
    assert endpoints == {("spark-ui", DRIVER_PATH + "/"), ("spark-ui", EXECUTORS_PATH + "/"),
                         ("job-metrics", "/metrics")}
    job_port = app_spec(objects["scheduled"])["driver"]["ports"][0]
    assert (job_port["name"], job_port["containerPort"]) == ("job-metrics", 9108)
    assert by_kind(objects["default"], "PodMonitor") == []


def test_prometheus_rule_and_dashboard_are_the_files_verbatim(objects):
    rule = by_kind(objects["scheduled"], "PrometheusRule")[0]
    rules_file = yaml.safe_load((CHART / "files" / "prometheus-rules.yaml").read_text())
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"]["groups"] == rules_file["groups"]
    assert "{{ $labels.run_id }}" in json.dumps(rule["spec"]["groups"])
    dashboard = by_kind(objects["scheduled"], "ConfigMap")[0]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["fruit-pipeline.json"]) == json.loads(
        (CHART / "files" / "grafana-dashboard.json").read_text())


@pytest.mark.parametrize("variant", ["kind", "eks", "emr-spark-operator"])
def test_arguments_are_accepted_by_the_job_and_agree_with_spark_conf(objects, variant):
    """The rendered arguments parse with the real CLI, and the job's own settings do not undo the chart's."""
    spec = app_spec(objects[variant])
    args = build_parser().parse_args(spec["arguments"])
    assert (args.input, args.output) == (spec["arguments"][2], spec["arguments"][4])
    pod_env = {e["name"]: e["value"] for e in spec["driver"].get("env", []) if "value" in e}
    cfg = build_config(None, overrides_from_args(args))
    job_conf = spark_conf(cfg, env=pod_env)
    shared = {k for k in spec["sparkConf"] if k in job_conf}
    assert len(shared) >= 5
    assert {k: spec["sparkConf"][k] for k in shared} == {k: job_conf[k] for k in shared}
    assert cfg.spark.profile == ("emr" if variant.startswith("emr") else "kubernetes")
    assert spec["mainApplicationFile"] == "local:///opt/fruit-pipeline/run_job.py"


def test_kind_run_targets_the_in_cluster_s3(objects):
    spec = app_spec(objects["kind"])
    assert spec["arguments"][:7] == ["run", "--input", "s3a://fruit-bank/sample", "--output",
                                     "s3a://fruit-features/sample", "--profile", "kubernetes"]
    assert spec["sparkConf"]["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert spec["sparkConf"]["spark.hadoop.fs.s3a.endpoint"] == "http://seaweedfs.fruit-pipeline.svc.cluster.local:8333"
    assert spec["imagePullPolicy"] == "Never"
    assert spec["executor"]["instances"] == 1


def test_emr_variant_uses_emrfs_and_no_s3a(objects):
    spec = app_spec(objects["emr-spark-operator"])
    assert spec["arguments"][2:5:2] == ["s3://fruits-bank-prod/fruits-360", "s3://fruits-features-prod/latest-emr"]
    assert not any(key.startswith("spark.hadoop.fs.s3a") for key in spec["sparkConf"])
    assert spec["driver"]["serviceAccount"] == "emr-containers-sa-spark"
    assert by_kind(objects["emr-spark-operator"], "Role") == []


def test_spark_version_matches_pyspark_and_metrics_settings(objects):
    for name, docs in objects.items():
        spec = app_spec(docs)
        assert spec["sparkVersion"].split(".")[:2] == version("pyspark").split(".")[:2], name
        assert spec["sparkConf"]["spark.metrics.namespace"] == "fruit_pipeline"
        assert spec["sparkConf"]["spark.ui.prometheus.enabled"] == "true"
        assert spec["restartPolicy"]["type"] == "OnFailure"
        assert spec["timeToLiveSeconds"] > 0


def test_eks_places_driver_on_demand_and_executors_on_spot(objects):
    spec = app_spec(objects["eks"])
    assert spec["driver"]["nodeSelector"] == {"eks.amazonaws.com/capacityType": "ON_DEMAND"}
    assert spec["executor"]["nodeSelector"] == {"eks.amazonaws.com/capacityType": "SPOT"}
    assert spec["executor"]["tolerations"][0]["key"] == "spot"
    assert spec["dynamicAllocation"] == {"enabled": True, "initialExecutors": 2, "minExecutors": 1,
                                         "maxExecutors": 20, "shuffleTrackingEnabled": True,
                                         "shuffleTrackingTimeout": 600000}
    assert "instances" not in spec["executor"]
    account = by_kind(objects["eks"], "ServiceAccount")[0]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_schedule_renders_cron_application(objects):
    scheduled = by_kind(objects["scheduled"], "ScheduledSparkApplication")[0]["spec"]
    assert (scheduled["schedule"], scheduled["concurrencyPolicy"], scheduled["timeZone"]) == ("0 3 * * *", "Forbid", "UTC")


def test_large_numbers_render_without_exponent(helm_bin, tmp_path):
    """YAML numbers reach templates as floats; 1e+07 would break the CRD's integers and the job's argparse."""
    values = tmp_path / "big.yaml"
    values.write_text("job:\n  params:\n    maxPixels: 250000000\n    arrowBatchSize: 10000000\n"
                      "timeToLiveSeconds: 10000000\nsparkConf:\n  spark.sql.shuffle.partitions: 20000000\n"
                      "  spark.memory.fraction: 0.6\n")
    result = template(helm_bin, "--values", str(values))
    assert result.returncode == 0, result.stderr
    spec = by_kind([d for d in yaml.safe_load_all(result.stdout) if d], "SparkApplication")[0]["spec"]
    args = spec["arguments"]
    assert args[args.index("--max-pixels") + 1] == "250000000"
    assert args[args.index("--arrow-batch-size") + 1] == "10000000"
    assert spec["timeToLiveSeconds"] == 10000000
    assert spec["sparkConf"]["spark.sql.shuffle.partitions"] == "20000000"
    assert spec["sparkConf"]["spark.memory.fraction"] == "0.6"


def test_metrics_off_removes_every_metrics_piece(helm_bin):
    result = template(helm_bin, "--set", "metrics.enabled=false", "--set", "metrics.podMonitor.enabled=true")
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    spec = by_kind(docs, "SparkApplication")[0]["spec"]
    assert "--no-metrics" in spec["arguments"] and "--metrics-port" not in spec["arguments"]
    assert not any(key.startswith(("spark.metrics", "spark.ui.prometheus")) for key in spec["sparkConf"])
    assert "ports" not in spec["driver"]
    assert by_kind(docs, "PodMonitor") == []
