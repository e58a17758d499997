"""The optional History Server (history-deployment.yaml, history-service.yaml) and the event-log values."""

from __future__ import annotations

import pytest

from fruit_pipeline.cli import build_parser

from .conftest import app_spec, by_kind, template

LOGS = "s3a://fruit-logs/spark-events"


def _history(objects) -> tuple[dict, dict]:
    docs = objects["history"]
    return by_kind(docs, "Deployment")[0], by_kind(docs, "Service")[0]


def test_history_server_reads_the_shared_event_log_directory(objects):
    deployment, _ = _history(objects)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:2] == ["fruit-pipeline", "history"]
    parsed = build_parser().parse_args(args[1:])  # the job image's own CLI accepts them
    assert (parsed.dir, parsed.port, parsed.profile, parsed.s3_path_style) == (LOGS, 18080, "kubernetes", True)
    assert parsed.s3_endpoint == "http://seaweedfs.fruit-pipeline.svc.cluster.local:8333"
    env = {e["name"]: e for e in container["env"]}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "fruit-pipeline-s3",
                                                                          "key": "AWS_SECRET_ACCESS_KEY"}}


def test_history_server_runs_non_root_with_probes_and_resources(objects):
    deployment, service = _history(objects)
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 185
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["automountServiceAccountToken"] is False  # it never calls the Kubernetes API
    assert pod["serviceAccountName"] == by_kind(objects["history"], "ServiceAccount")[0]["metadata"]["name"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/api/v1/version", "port": "http"}
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "1536Mi"},
                                      "limits": {"cpu": "1", "memory": "1536Mi"}}
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"] == selector
    assert selector["app.kubernetes.io/component"] == "history-server"
    assert service["spec"]["ports"] == [{"name": "http", "port": 18080, "targetPort": "http", "protocol": "TCP"}]


def test_event_log_settings_reach_the_spark_application(objects):
    spec = app_spec(objects["history"])
    conf = spec["sparkConf"]
    assert (conf["spark.eventLog.enabled"], conf["spark.eventLog.dir"]) == ("true", LOGS)
    assert (conf["spark.eventLog.rolling.enabled"], conf["spark.eventLog.rolling.maxFileSize"]) == ("true", "128m")
    args = spec["arguments"]
    assert args[args.index("--event-log-dir") + 1] == LOGS
    default = app_spec(objects["default"])  # no shared directory: the job's default, next to the output
    assert "--event-log-dir" not in default["arguments"] and "spark.eventLog.dir" not in default["sparkConf"]
    assert by_kind(objects["default"], "Deployment") == []


@pytest.mark.parametrize("values, flag", [(["--set", "eventLog.enabled=false"], "--no-event-log"),
                                          (["--set", "eventLog.rollingMaxFileSize=64m"],
                                           "spark.eventLog.rolling.maxFileSize=64m")])
def test_event_log_values_become_job_arguments(helm_bin, values, flag):
    import yaml

    result = template(helm_bin, *values)
    assert result.returncode == 0, result.stderr
    assert flag in app_spec([d for d in yaml.safe_load_all(result.stdout) if d])["arguments"]


def test_history_without_a_directory_is_refused_in_one_line(helm_bin):
    result = template(helm_bin, "--set", "history.enabled=true")
    assert result.returncode != 0
    assert "history.logDirectory (or eventLog.dir) is required when history.enabled" in result.stderr
