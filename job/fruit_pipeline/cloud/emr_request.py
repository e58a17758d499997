"""The EMR on EKS StartJobRun request for one pipeline run, built from PipelineConfig (pure: no AWS call).

Shape as AWS documents StartJobRun: name, virtualClusterId, clientToken, executionRoleArn, releaseLabel,
jobDriver.sparkSubmitJobDriver (entryPoint, entryPointArguments, sparkSubmitParameters), configurationOverrides
(applicationConfiguration classifications `spark-defaults` and `spark-metrics`, monitoringConfiguration), tags
and retryPolicyConfiguration. The job in the driver pod is our own CLI (`run ... --profile emr`), so every job
setting must survive the trip through its command line: `build_request` refuses settings that would not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, Mapping

from ..config import PipelineConfig, to_dict
from ..errors import UsageError
from ..observability.report import SECRET_KEY
from ..stages.spark_conf import spark_conf

METRICS_PREFIX = "spark.metrics.conf."
URI_WITH_PASSWORD = re.compile(r"://[^/\s@:]+:[^/\s@]+@")

# Job settings the job's command line carries: (config path, flag); emitted only when not the default.
VALUE_FLAGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("extraction", "orb", "n_features"), "--orb-features"),
    (("extraction", "max_pixels"), "--max-pixels"),
    (("spark", "partitions_per_core"), "--partitions-per-core"),
    (("spark", "arrow_batch_size"), "--arrow-batch-size"),
    (("reduction", "vocabulary_size"), "--vocabulary-size"),
    (("reduction", "pca_components"), "--pca-components"),
    (("metrics", "port"), "--metrics-port"),
    (("metrics", "pushgateway"), "--pushgateway"),
    (("event_log", "dir"), "--event-log-dir"),
)
# Switches: (config path, value that the switch sets, flag).
SWITCHES: tuple[tuple[tuple[str, ...], bool, str], ...] = (
    (("extraction", "keep_pixels"), True, "--keep-pixels"),
    (("reduction", "enabled"), False, "--no-reduction"),
    (("evaluation", "enabled"), False, "--no-evaluation"),
    (("evaluation", "ablation"), True, "--ablation"),
    (("metrics", "enabled"), False, "--no-metrics"),
    (("event_log", "enabled"), False, "--no-event-log"),
)
# Settings the EMR profile does not use: EMR sets the master; EMRFS replaces the s3a settings.
IGNORED_ON_EMR = ("emr", "s3", "spark.master")
# Spark settings that belong to [emr] (sizes, image, venv): refused in [spark.conf] to keep one source.
EMR_OWNED = ("spark.driver.cores", "spark.driver.memory", "spark.executor.cores", "spark.executor.memory",
             "spark.executor.instances", "spark.kubernetes.container.image", "spark.archives",
             "spark.pyspark.python")


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


def for_emr(cfg: PipelineConfig) -> PipelineConfig:
    """The same config with the `emr` Spark profile (EMRFS, nothing on the classpath)."""
    return dataclasses.replace(cfg, spark=dataclasses.replace(cfg.spark, profile="emr"))


def job_arguments(cfg: PipelineConfig) -> list[str]:
    """entryPointArguments: `run --input --output --profile emr` plus a flag for every non-default setting."""
    defaults = PipelineConfig()
    args = ["run", "--input", cfg.input, "--output", cfg.output, "--profile", "emr"]
    for path, flag in VALUE_FLAGS:
        if _get(cfg, path) != _get(defaults, path):
            args += [flag, str(_get(cfg, path))]
    for path, value, flag in SWITCHES:
        if _get(cfg, path) == value and _get(defaults, path) != value:
            args.append(flag)
    for key, value in sorted(cfg.spark.conf.items()):
        # Also in spark-defaults, but the job's session builder applies its own defaults over spark-defaults.
        args += ["--conf", f"{key}={value}"]
    return args


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and key != "conf":
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def lost_settings(cfg: PipelineConfig, args: list[str]) -> list[str]:
    """Settings the job would not get from `args` (parsed by the job's own CLI), as dotted names."""
    from ..config import build_config
    from ..job_options import overrides_from_args, run_parser

    assert args[0] == "run", args
    parsed = run_parser().parse_args(args[1:])
    overrides = overrides_from_args(parsed)
    if parsed.pushgateway is None:  # overrides_from_args also reads this machine's FRUIT_PIPELINE_PUSHGATEWAY
        overrides.get("metrics", {}).pop("pushgateway", None)
    job = build_config(None, overrides)
    wanted, got = _flatten(to_dict(cfg)), _flatten(to_dict(job))
    ignored = tuple(f"{name}." for name in IGNORED_ON_EMR)
    return sorted(key for key in wanted
                  if wanted[key] != got.get(key) and key not in IGNORED_ON_EMR and not key.startswith(ignored))


def _check_uris(cfg: PipelineConfig) -> None:
    for name, uri in (("input", cfg.input), ("output", cfg.output)):
        if not uri:
            raise UsageError(f"{name} is required (--{name} or `{name}` in the config file)")
        if not uri.startswith(("s3://", "s3a://")):
            raise UsageError(f"EMR job runs read and write S3: {name} must be an s3:// URI, got {uri!r}")


def _check_emr(cfg: PipelineConfig) -> None:
    emr = cfg.emr
    required = (("virtual_cluster_id", "--virtual-cluster-id"), ("execution_role_arn", "--execution-role-arn"),
                ("release_label", "--release-label"), ("entry_point", "--entry-point"))
    for name, flag in required:
        if not getattr(emr, name):
            raise UsageError(f"emr.{name} is required ({flag} or `{name}` in the [emr] section)")
    checks = [
        (emr.driver_cores >= 1, "emr.driver_cores must be >= 1"),
        (emr.executor_cores >= 1, "emr.executor_cores must be >= 1"),
        (emr.executor_instances >= 1, "emr.executor_instances must be >= 1"),
        (emr.retry_max_attempts >= 1, "emr.retry_max_attempts must be >= 1"),
        (not emr.log_uri or emr.log_uri.startswith("s3://"), "emr.log_uri must be an s3:// URI"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    owned = sorted(set(cfg.spark.conf) & set(EMR_OWNED))
    if owned:
        raise UsageError(f"set {', '.join(owned)} through the [emr] section (sizes, image, venv_archive), "
                         "not [spark.conf]")


def submit_parameters(cfg: PipelineConfig) -> str:
    """sparkSubmitParameters: pod sizes, optional custom image and Python venv archive."""
    emr = cfg.emr
    conf = {
        "spark.driver.cores": str(emr.driver_cores),
        "spark.driver.memory": emr.driver_memory,
        "spark.executor.cores": str(emr.executor_cores),
        "spark.executor.memory": emr.executor_memory,
        "spark.executor.instances": str(emr.executor_instances),
    }
    if emr.image:
        conf["spark.kubernetes.container.image"] = emr.image
    if emr.venv_archive:
        conf["spark.archives"] = f"{emr.venv_archive}#environment"
        conf["spark.pyspark.python"] = "./environment/bin/python"
    for key, value in conf.items():
        if not value or any(ch.isspace() for ch in value):
            raise UsageError(f"{key} for EMR must be a non-empty value without spaces, got {value!r}")
    return " ".join(f"--conf {key}={value}" for key, value in conf.items())


def application_configuration(cfg: PipelineConfig) -> list[dict[str, Any]]:
    """`spark-defaults` = the emr profile's settings; `spark-metrics` = metrics.properties (PrometheusServlet)."""
    conf = spark_conf(cfg, env={})  # env-independent: EMRFS needs no endpoint, and the request must be stable
    metrics = {key[len(METRICS_PREFIX):]: value for key, value in conf.items() if key.startswith(METRICS_PREFIX)}
    defaults = {key: value for key, value in conf.items() if not key.startswith(METRICS_PREFIX)}
    out = [{"classification": "spark-defaults", "properties": defaults}]
    if metrics:
        out.append({"classification": "spark-metrics", "properties": metrics})
    return out


def monitoring_configuration(cfg: PipelineConfig) -> dict[str, Any]:
    """Spark History UI after the run, container logs to S3 and/or CloudWatch Logs."""
    emr = cfg.emr
    out: dict[str, Any] = {"persistentAppUI": "ENABLED" if emr.persistent_app_ui else "DISABLED"}
    if emr.log_uri:
        out["s3MonitoringConfiguration"] = {"logUri": emr.log_uri}
    if emr.log_group:
        cloudwatch = {"logGroupName": emr.log_group}
        if emr.log_stream_prefix:
            cloudwatch["logStreamNamePrefix"] = emr.log_stream_prefix
        out["cloudWatchMonitoringConfiguration"] = cloudwatch
    return out


def _refuse_secrets(request: dict[str, Any]) -> None:
    """No credentials in a request that EMR stores and shows: secret-looking settings, passwords in URIs."""
    keys = [key for item in request["configurationOverrides"]["applicationConfiguration"]
            for key in item["properties"]]
    arguments = request["jobDriver"]["sparkSubmitJobDriver"]["entryPointArguments"]
    keys += [arg.split("=", 1)[0] for arg in arguments if "=" in arg]
    secret = sorted({key for key in keys if SECRET_KEY.search(key)})
    if secret:
        raise UsageError(f"refusing to put secret-looking setting(s) {', '.join(secret)} into an EMR job run; "
                         "the job execution role provides AWS access")
    if URI_WITH_PASSWORD.search(json.dumps(request)):
        raise UsageError("refusing to put a URI with a password into an EMR job run")


def client_token(request: Mapping[str, Any]) -> str:
    """Idempotency token from the request's content: resubmitting the same request returns the same job run."""
    body = {key: value for key, value in request.items() if key != "clientToken"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()  # 64 characters, the API's maximum


def build_request(cfg: PipelineConfig) -> dict[str, Any]:
    """The StartJobRun request (keyword arguments of boto3's `start_job_run`) for running `cfg` on EMR on EKS."""
    cfg = for_emr(cfg)
    _check_uris(cfg)
    _check_emr(cfg)
    arguments = job_arguments(cfg)
    lost = lost_settings(cfg, arguments)
    if lost:
        raise UsageError(f"setting(s) {', '.join(lost)} cannot be passed to the job's command line on EMR; "
                         "leave them at their defaults or run with `fruit-pipeline run`")
    emr = cfg.emr
    request: dict[str, Any] = {
        "name": emr.job_name,
        "virtualClusterId": emr.virtual_cluster_id,
        "executionRoleArn": emr.execution_role_arn,
        "releaseLabel": emr.release_label,
        "jobDriver": {"sparkSubmitJobDriver": {
            "entryPoint": emr.entry_point,
            "entryPointArguments": arguments,
            "sparkSubmitParameters": submit_parameters(cfg),
        }},
        "configurationOverrides": {
            "applicationConfiguration": application_configuration(cfg),
            "monitoringConfiguration": monitoring_configuration(cfg),
        },
        "retryPolicyConfiguration": {"maxAttempts": emr.retry_max_attempts},
    }
    if emr.tags:
        request["tags"] = dict(sorted(emr.tags.items()))
    _refuse_secrets(request)
    request["clientToken"] = emr.client_token or client_token(request)
    return request


def to_json(request: Mapping[str, Any]) -> str:
    """Stable text of a request (sorted keys), as `--dry-run` prints it and k8s/emr keeps it."""
    return json.dumps(request, indent=2, sort_keys=True) + "\n"
