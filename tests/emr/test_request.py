"""The StartJobRun request: values, the job's own CLI parses its arguments, botocore's model accepts it."""

from __future__ import annotations

import dataclasses
import json

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from fruit_pipeline.cli import build_parser, overrides_from_args
from fruit_pipeline.cloud.emr import check_request, rule_problems
from fruit_pipeline.cloud.emr_request import METRICS_PREFIX, build_request, client_token, for_emr
from fruit_pipeline.config import build_config
from fruit_pipeline.errors import UsageError
from fruit_pipeline.stages.spark_conf import spark_conf

from .conftest import ROLE

VC = "3d9jti9ahl2vjq5qbk5ihfojr"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fruit-pipeline-emr:0.1.0"
BASE = {
    "input": "s3://bank/fruits-360",
    "output": "s3://features/run-1",
    "emr": {"virtual_cluster_id": VC, "execution_role_arn": ROLE},
}


def cfg(**sections):
    """A config from BASE deep-merged with `sections` (same validation as --config files)."""
    from fruit_pipeline.config import merge

    return build_config(None, merge(BASE, sections))


def start_job_run_shape():
    model = botocore.session.get_session().get_service_model("emr-containers")
    return model.operation_model("StartJobRun").input_shape


def classification(request, name):
    items = [c for c in request["configurationOverrides"]["applicationConfiguration"] if c["classification"] == name]
    return items[0]["properties"] if items else None


def test_request_carries_every_setting():
    c = cfg(emr={"release_label": "emr-spark-8.0.0-latest", "job_name": "fruits-nightly",
                 "image": IMAGE,
                 "driver_cores": 2, "driver_memory": "6g", "executor_cores": 3, "executor_memory": "10g",
                 "executor_instances": 7, "log_uri": "s3://logs/emr", "log_group": "/emr/fruits",
                 "log_stream_prefix": "nightly", "retry_max_attempts": 3, "tags": {"team": "fruits", "env": "prod"}})
    request = build_request(c)
    assert request["name"] == "fruits-nightly"
    assert request["virtualClusterId"] == VC
    assert request["executionRoleArn"] == ROLE
    assert request["releaseLabel"] == "emr-spark-8.0.0-latest"
    driver = request["jobDriver"]["sparkSubmitJobDriver"]
    assert driver["entryPoint"] == "local:///opt/fruit-pipeline/run_job.py"
    assert driver["entryPointArguments"] == ["run", "--input", "s3://bank/fruits-360",
                                             "--output", "s3://features/run-1", "--profile", "emr"]
    assert driver["sparkSubmitParameters"].split() == [
        "--conf", "spark.driver.cores=2", "--conf", "spark.driver.memory=6g", "--conf", "spark.executor.cores=3",
        "--conf", "spark.executor.memory=10g", "--conf", "spark.executor.instances=7",
        "--conf", f"spark.kubernetes.container.image={IMAGE}"]
    assert request["configurationOverrides"]["monitoringConfiguration"] == {
        "persistentAppUI": "ENABLED",
        "s3MonitoringConfiguration": {"logUri": "s3://logs/emr"},
        "cloudWatchMonitoringConfiguration": {"logGroupName": "/emr/fruits", "logStreamNamePrefix": "nightly"}}
    assert request["retryPolicyConfiguration"] == {"maxAttempts": 3}
    assert request["tags"] == {"env": "prod", "team": "fruits"}
    assert len(request["clientToken"]) == 64 and int(request["clientToken"], 16) >= 0


def test_spark_classifications_are_the_emr_profile_and_metrics_settings():
    c = cfg(spark={"conf": {"spark.sql.shuffle.partitions": "400"}})
    request = build_request(c)
    conf = spark_conf(for_emr(c), env={})
    defaults, metrics = classification(request, "spark-defaults"), classification(request, "spark-metrics")
    assert defaults == {k: v for k, v in conf.items() if not k.startswith(METRICS_PREFIX)}
    assert defaults["spark.sql.files.openCostInBytes"] == "8192"          # the job's own small-file setting
    assert defaults["spark.sql.shuffle.partitions"] == "400"              # user settings too
    assert "spark.master" not in defaults  # EMR sets the master; the classpath gains only EMR's own Delta jars
    assert defaults["spark.jars"].split(",") == ["local:///usr/share/aws/delta/lib/delta-spark.jar",
                                                 "local:///usr/share/aws/delta/lib/delta-storage.jar"]
    assert not any(k.startswith("spark.hadoop.fs.s3a") for k in defaults)   # EMRFS, not s3a
    assert metrics == {"*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet",
                       "*.sink.prometheusServlet.path": "/metrics/driver/prometheus"}
    assert defaults["spark.ui.prometheus.enabled"] == "true"


def test_metrics_off_drops_the_metrics_classification_and_tells_the_job():
    request = build_request(cfg(metrics={"enabled": False}))
    assert classification(request, "spark-metrics") is None
    assert "spark.ui.prometheus.enabled" not in classification(request, "spark-defaults")
    assert "--no-metrics" in request["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]


def test_the_jobs_own_cli_parses_the_arguments_back_into_the_same_settings():
    c = cfg(extraction={"orb": {"n_features": 300}, "keep_pixels": True, "max_pixels": 1_000_000},
            reduction={"vocabulary_size": 96, "pca_components": 16}, evaluation={"enabled": False},
            spark={"partitions_per_core": 2, "arrow_batch_size": 256, "conf": {"spark.sql.shuffle.partitions": "64"}},
            metrics={"pushgateway": "http://pushgateway.monitoring:9091", "port": 9464})
    arguments = build_request(c)["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]
    args = build_parser().parse_args(arguments)
    assert args.command == "run" and args.profile == "emr"
    job = build_config(None, overrides_from_args(args))
    assert (job.input, job.output, job.spark.profile) == ("s3://bank/fruits-360", "s3://features/run-1", "emr")
    assert job.extraction == c.extraction and job.reduction == c.reduction and job.evaluation == c.evaluation
    assert job.metrics == c.metrics
    assert dict(job.spark.conf) == {"spark.sql.shuffle.partitions": "64"}
    assert (job.spark.partitions_per_core, job.spark.arrow_batch_size) == (2, 256)
    # and the driver builds exactly the Spark settings the request put in spark-defaults
    assert spark_conf(job, env={}) == spark_conf(for_emr(c), env={})


def test_settings_the_job_cli_cannot_carry_are_refused_but_unused_ones_ignored():
    with pytest.raises(UsageError, match=r"extraction\.colour\.h_bins, extraction\.orb\.scale_factor cannot be passed"):
        build_request(cfg(extraction={"orb": {"scale_factor": 1.3}, "colour": {"h_bins": 8}}))
    # EMRFS ignores [s3]; EMR sets the master: a file shared with the kubernetes profile still works
    request = build_request(cfg(s3={"endpoint": "http://minio:9000", "path_style": True},
                                spark={"master": "k8s://https://kubernetes.default.svc", "profile": "kubernetes"}))
    assert "--s3-endpoint" not in request["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]
    assert "--profile" in request["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]


def test_request_passes_botocores_own_validation_and_the_models_rules():
    request = build_request(cfg(emr={"log_uri": "s3://logs/emr", "log_group": "/emr/fruits", "tags": {"a": "b"}}))
    shape = start_job_run_shape()
    validate_parameters(request, shape)  # raises ParamValidationError on any problem
    assert rule_problems(request, shape) == []
    check_request(request)
    # the validator is really engaged: the same request with a wrong type or a missing field is refused
    with pytest.raises(ParamValidationError, match="maxAttempts"):
        validate_parameters({**request, "retryPolicyConfiguration": {"maxAttempts": "3"}}, shape)
    with pytest.raises(ParamValidationError, match="virtualClusterId"):
        validate_parameters({k: v for k, v in request.items() if k != "virtualClusterId"}, shape)


@pytest.mark.parametrize("emr,needle", [
    ({"job_name": "fruit pipeline"}, "name 'fruit pipeline' does not match"),
    ({"execution_role_arn": "arn:aws:iam::123:user/bob"}, "executionRoleArn"),
    ({"virtual_cluster_id": "VC_UPPER"}, "virtualClusterId 'VC_UPPER' does not match"),
    ({"client_token": "x" * 65}, "clientToken must be 1-64 characters, got 65"),
])
def test_model_rules_botocore_leaves_to_the_server_are_checked(emr, needle):
    with pytest.raises(UsageError, match="invalid StartJobRun request") as err:
        check_request(build_request(cfg(emr=emr)))
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_client_token_is_the_requests_content_hash_unless_given():
    a, b = build_request(cfg()), build_request(cfg())
    assert a["clientToken"] == b["clientToken"] == client_token(a)
    assert build_request(cfg(output="s3://features/run-2"))["clientToken"] != a["clientToken"]
    assert build_request(cfg(emr={"retry_max_attempts": 2}))["clientToken"] != a["clientToken"]
    assert build_request(cfg(emr={"client_token": "nightly-2026-11-25"}))["clientToken"] == "nightly-2026-11-25"


def test_request_does_not_depend_on_this_machines_environment(monkeypatch):
    before = build_request(cfg())
    for name, value in {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
                        "FRUIT_PIPELINE_PUSHGATEWAY": "http://pushgateway:9091", "AWS_REGION": "us-west-2"}.items():
        monkeypatch.setenv(name, value)
    assert build_request(cfg()) == before


def test_venv_archive_for_the_stock_image():
    params = build_request(cfg(emr={"venv_archive": "s3://artifacts/fruit-venv.tar.gz"}))[
        "jobDriver"]["sparkSubmitJobDriver"]["sparkSubmitParameters"]
    assert "--conf spark.archives=s3://artifacts/fruit-venv.tar.gz#environment" in params
    assert "--conf spark.pyspark.python=./environment/bin/python" in params
    assert "spark.kubernetes.container.image" not in params


def test_persistent_ui_can_be_disabled_and_logs_are_optional():
    overrides = build_request(cfg(emr={"persistent_app_ui": False}))["configurationOverrides"]
    assert overrides["monitoringConfiguration"] == {"persistentAppUI": "DISABLED"}


@pytest.mark.parametrize("sections,needle", [
    ({"input": "/data/bank"}, "input must be an s3:// URI, got '/data/bank'"),
    ({"output": "file:///tmp/out"}, "output must be an s3:// URI"),
    ({"emr": {"virtual_cluster_id": ""}}, "emr.virtual_cluster_id is required (--virtual-cluster-id"),
    ({"emr": {"execution_role_arn": ""}}, "emr.execution_role_arn is required"),
    ({"emr": {"executor_instances": 0}}, "emr.executor_instances must be >= 1"),
    ({"emr": {"retry_max_attempts": 0}}, "emr.retry_max_attempts must be >= 1"),
    ({"emr": {"log_uri": "https://logs"}}, "emr.log_uri must be an s3:// URI"),
    ({"emr": {"executor_memory": "8 g"}}, "spark.executor.memory for EMR must be a non-empty value without spaces"),
    ({"spark": {"conf": {"spark.executor.memory": "2g"}}}, "set spark.executor.memory through the [emr] section"),
])
def test_bad_settings_are_one_line_usage_errors(sections, needle):
    with pytest.raises(UsageError) as err:
        build_request(cfg(**sections))
    assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("sections,leaked", [
    ({"spark": {"conf": {"spark.hadoop.fs.s3a.secret.key": "hunter2-not-real"}}}, "hunter2-not-real"),
    ({"spark": {"conf": {"spark.kubernetes.authenticate.oauthToken": "tok-not-real"}}}, "tok-not-real"),
    ({"metrics": {"pushgateway": "http://user:pa55-not-real@pushgateway:9091"}}, "pa55-not-real"),
])
def test_secrets_never_go_into_the_request(sections, leaked):
    with pytest.raises(UsageError, match="refusing to put") as err:
        build_request(cfg(**sections))
    assert leaked not in str(err.value)


def test_emr_section_is_typed_and_unknown_keys_are_refused():
    with pytest.raises(UsageError, match=r"unknown key\(s\) in config.emr: executor_count"):
        build_config(None, {"emr": {"executor_count": 3}})
    with pytest.raises(UsageError, match="config.emr.retry_max_attempts must be an integer"):
        build_config(None, {"emr": {"retry_max_attempts": "3"}})
    assert build_config(None, {"emr": {"tags": {"n": 1}}}).emr.tags == {"n": "1"}
    assert dataclasses.asdict(build_config(None, {}).emr)["release_label"] == "emr-spark-8.0.0-latest"


def test_dry_run_json_is_sorted_and_stable():
    from fruit_pipeline.cloud.emr_request import to_json

    request = build_request(cfg(emr={"tags": {"z": "1", "a": "2"}}))
    text = to_json(request)
    assert text == to_json(build_request(cfg(emr={"tags": {"a": "2", "z": "1"}})))
    assert json.loads(text) == request
    keys = list(json.loads(text))
    assert keys == sorted(keys) and text.endswith("}\n")


def test_every_emr_setting_has_a_submit_flag():
    from fruit_pipeline.cloud.emr import SUBMIT_OPTIONS
    from fruit_pipeline.config import EmrConfig

    flagged = {field for _, field, _, _, _ in SUBMIT_OPTIONS} | {"persistent_app_ui", "tags"}  # --no-..., --tag
    assert {f.name for f in dataclasses.fields(EmrConfig)} == flagged
    parsed = build_parser().parse_args(["emr", "submit", "--dry-run"])
    assert all(getattr(parsed, field) is None for field in flagged - {"persistent_app_ui", "tags"})  # unset: TOML wins


def test_event_logs_go_to_s3_beside_the_persistent_app_ui():
    default = build_request(cfg())
    assert default["configurationOverrides"]["monitoringConfiguration"]["persistentAppUI"] == "ENABLED"
    defaults = classification(default, "spark-defaults")
    assert (defaults["spark.eventLog.enabled"], defaults["spark.eventLog.dir"]) == ("true", "s3://features/spark-events")
    assert (defaults["spark.eventLog.rolling.enabled"], defaults["spark.eventLog.compression.codec"]) == ("true", "zstd")
    shared = build_request(cfg(event_log={"dir": "s3://logs/spark-events"}))
    assert classification(shared, "spark-defaults")["spark.eventLog.dir"] == "s3://logs/spark-events"
    arguments = shared["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]
    assert arguments[arguments.index("--event-log-dir") + 1] == "s3://logs/spark-events"
    off = build_request(cfg(event_log={"enabled": False}))
    assert "spark.eventLog.enabled" not in classification(off, "spark-defaults")
    assert "--no-event-log" in off["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]


def test_emr_profile_puts_emrs_own_delta_jars_on_the_classpath():
    """EMR on EKS 7.x ships Delta under /usr/share/aws/delta/lib but leaves it off the classpath (AWS, "Using Delta
    Lake with Amazon EMR on EKS"); the tables need it, with the extension and the catalog."""
    from fruit_pipeline.config import PipelineConfig, SparkConfig
    from fruit_pipeline.stages.delta_conf import delta_conf

    emr = delta_conf(PipelineConfig(spark=SparkConfig(profile="emr")), {})
    assert emr["spark.jars"] == ("local:///usr/share/aws/delta/lib/delta-spark.jar,"
                                 "local:///usr/share/aws/delta/lib/delta-storage.jar")
    assert emr["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert "spark.jars" not in delta_conf(PipelineConfig(spark=SparkConfig(profile="kubernetes")), {})
