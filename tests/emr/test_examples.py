"""k8s/emr/: the committed request is what the code builds from job.toml; the ACK JobRun is the same run."""

from __future__ import annotations

import json

import yaml

from fruit_pipeline.cloud.emr import check_request
from fruit_pipeline.cloud.emr_request import build_request, to_json
from fruit_pipeline.config import build_config

from .conftest import EXAMPLE_ACK, EXAMPLE_JSON, EXAMPLE_TOML

REGENERATE = ".venv/bin/fruit-pipeline emr submit --config k8s/emr/job.toml --dry-run > k8s/emr/start-job-run.json"
# spec fields of ACK emrcontainers-controller's JobRun CRD (emrcontainers.services.k8s.aws/v1alpha1)
ACK_SPEC_FIELDS = {"configurationOverrides", "executionRoleARN", "executionRoleRef", "jobDriver", "name",
                   "releaseLabel", "tags", "virtualClusterID", "virtualClusterRef"}


def api_names(value, in_properties: bool = False):
    """ACK's configurationOverrides uses the Go SDK's field names (ApplicationConfiguration, LogUri, ...):
    the API's JSON names with an upper-case first letter. Property maps keep their keys."""
    if isinstance(value, dict):
        return {key if in_properties else key[0].lower() + key[1:]: api_names(item, key == "Properties")
                for key, item in value.items()}
    if isinstance(value, list):
        return [api_names(item) for item in value]
    return value


def test_committed_request_is_what_the_code_builds():
    built = to_json(build_request(build_config(str(EXAMPLE_TOML), {})))
    assert EXAMPLE_JSON.read_text() == built, f"k8s/emr/start-job-run.json drifted; regenerate: {REGENERATE}"


def test_committed_request_is_a_valid_start_job_run():
    request = json.loads(EXAMPLE_JSON.read_text())
    check_request(request)
    driver = request["jobDriver"]["sparkSubmitJobDriver"]
    assert driver["entryPointArguments"][:7] == ["run", "--input", "s3://fruits-bank-prod/fruits-360", "--output",
                                                 "s3://fruits-features-prod/latest-emr", "--profile", "emr"]
    assert "--vocabulary-size" in driver["entryPointArguments"]   # the example's non-default setting travels


def test_example_config_also_works_for_a_plain_run():
    cfg = build_config(str(EXAMPLE_TOML), {"spark": {"profile": "local"}})
    assert cfg.reduction.vocabulary_size == 128 and cfg.emr.executor_instances == 4


def test_ack_jobrun_is_the_same_run():
    request = json.loads(EXAMPLE_JSON.read_text())
    manifest = yaml.safe_load(EXAMPLE_ACK.read_text())
    assert manifest["apiVersion"] == "emrcontainers.services.k8s.aws/v1alpha1" and manifest["kind"] == "JobRun"
    assert manifest["metadata"]["name"] and manifest["metadata"]["namespace"]
    spec = manifest["spec"]
    assert set(spec) <= ACK_SPEC_FIELDS, set(spec) - ACK_SPEC_FIELDS
    assert {"executionRoleARN", "jobDriver", "releaseLabel"} <= set(spec)   # required by older CRD versions
    assert spec["name"] == request["name"]
    assert spec["virtualClusterID"] == request["virtualClusterId"]
    assert spec["executionRoleARN"] == request["executionRoleArn"]
    assert spec["releaseLabel"] == request["releaseLabel"]
    assert spec["tags"] == request["tags"]
    assert spec["jobDriver"] == request["jobDriver"]
    assert isinstance(spec["configurationOverrides"], str)   # the CRD types it as a string
    overrides = yaml.safe_load(spec["configurationOverrides"])
    assert all(key[0].isupper() for key in overrides)
    assert api_names(overrides) == request["configurationOverrides"]
