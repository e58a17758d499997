"""`fruit-pipeline emr submit|status|wait|cancel` as subprocesses, over real HTTP against moto's server mode.

moto keeps job runs RUNNING; the tests move them to COMPLETED/FAILED in moto's own records, as EMR would.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from .conftest import EXAMPLE_TOML, MOTO_RELEASE, aws_env, run_emr

JOB_ID = re.compile(r"^[0-9a-z]{19}$")


@pytest.fixture
def env(emr_server, tmp_path):
    return emr_server.env(tmp_path)


@pytest.fixture
def vc(emr_server, request):
    return emr_server.virtual_cluster(re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:60])


def submit(env, vc, *extra):
    return run_emr("submit", "--config", str(EXAMPLE_TOML), "--virtual-cluster-id", vc,
                   "--release-label", MOTO_RELEASE, *extra, env=env)


def submitted_id(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    assert JOB_ID.match(job_id), proc.stdout
    return job_id


PROGRESS = re.compile(r"^\d\d:\d\d:\d\d INFO fruit_pipeline\.cloud\.emr: ")


def one_line_error(proc, code: int) -> str:
    """The exit code, and stderr = progress log lines (if any) then exactly one error line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    *progress, last = proc.stderr.strip().splitlines()
    assert last.startswith("fruit-pipeline: error: ") and all(PROGRESS.match(line) for line in progress), proc.stderr
    return last


def later(seconds: float, action) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()), daemon=True)
    thread.start()
    return thread


def test_submit_sends_the_dry_run_request_and_status_reports_it(emr_server, env, vc):
    dry = run_emr("submit", "--config", str(EXAMPLE_TOML), "--virtual-cluster-id", vc,
                  "--release-label", MOTO_RELEASE, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    request = json.loads(dry.stdout)

    proc = submit(env, vc)
    job_id = submitted_id(proc)
    assert f"submitted job run {job_id} (fruit-pipeline) to virtual cluster {vc}" in proc.stderr

    stored = emr_server.client().describe_job_run(id=job_id, virtualClusterId=vc)["jobRun"]
    assert stored["state"] == "RUNNING"
    assert stored["name"] == "fruit-pipeline" and stored["virtualClusterId"] == vc
    assert stored["releaseLabel"] == MOTO_RELEASE
    assert stored["executionRoleArn"] == request["executionRoleArn"]
    assert stored["clientToken"] == request["clientToken"]          # the content hash reached the service
    assert stored["jobDriver"] == request["jobDriver"]              # arguments, sizes and image, as sent
    assert stored["configurationOverrides"] == request["configurationOverrides"]
    assert stored["tags"] == {"app": "fruit-pipeline", "team": "fruits-data"}

    status = run_emr("status", job_id, "--virtual-cluster-id", vc, env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout == f"{job_id} RUNNING\n"


def test_virtual_cluster_and_region_can_come_from_the_config(emr_server, env, vc, tmp_path):
    toml = tmp_path / "job.toml"
    toml.write_text(EXAMPLE_TOML.read_text().replace('"3d9jti9ahl2vjq5qbk5ihfojr"', f'"{vc}"')
                    .replace('"emr-spark-8.0.0-latest"', f'"{MOTO_RELEASE}"'))
    no_region = {k: v for k, v in env.items() if k != "AWS_REGION"}   # region = "eu-west-1" in the file
    job_id = submitted_id(run_emr("submit", "--config", str(toml), env=no_region))
    status = run_emr("status", job_id, "--config", str(toml), env=no_region)
    assert status.stdout == f"{job_id} RUNNING\n", status.stderr


def test_wait_follows_the_run_to_completed(emr_server, env, vc):
    job_id = submitted_id(submit(env, vc))
    later(1.5, lambda: setattr(emr_server.job_run(job_id), "state", "COMPLETED"))
    started = time.monotonic()
    proc = run_emr("wait", job_id, "--virtual-cluster-id", vc, "--interval", "0.2", "--timeout", "30", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{job_id} COMPLETED\n"
    assert proc.stderr.count(f"{job_id} RUNNING") == 1 and "COMPLETED" not in proc.stderr   # progress: new states
    assert time.monotonic() - started >= 1.5


def test_wait_on_a_failed_run_exits_1_with_the_reason(emr_server, env, vc):
    job_id = submitted_id(submit(env, vc))
    record = emr_server.job_run(job_id)
    record.state, record.failure_reason = "FAILED", "USER_ERROR"
    record.state_details = "Job failed: the driver exited with code 1\n(see the driver log)"
    proc = run_emr("wait", job_id, "--virtual-cluster-id", vc, "--interval", "0.2", env=env)
    line = one_line_error(proc, 1)
    assert line.endswith(f"job run {job_id} FAILED (USER_ERROR) Job failed: the driver exited with code 1 "
                         "(see the driver log)")


def test_submit_wait_and_timeout(emr_server, env, vc):
    proc = submit(env, vc, "--wait", "--interval", "0.2", "--timeout", "1")
    line = one_line_error(proc, 3)
    job_id = proc.stdout.strip()
    assert JOB_ID.match(job_id)
    assert f"timed out after 1 s waiting for job run {job_id}, still RUNNING" in line
    assert emr_server.job_run(job_id).state == "RUNNING"   # giving up waiting does not touch the run


def test_cancel_is_idempotent_and_refuses_finished_runs(emr_server, env, vc, emr_cli):
    job_id = submitted_id(submit(env, vc))
    first = run_emr("cancel", job_id, "--virtual-cluster-id", vc, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{job_id} CANCELLED JobRun CANCELLED successfully.\n"
    assert emr_server.client().describe_job_run(id=job_id, virtualClusterId=vc)["jobRun"]["state"] == "CANCELLED"
    again = emr_cli("cancel", job_id, "--virtual-cluster-id", vc, env=env)   # moto would refuse a second cancel
    assert again.returncode == 0 and again.stdout == first.stdout, again.stderr
    waited = emr_cli("wait", job_id, "--virtual-cluster-id", vc, env=env)
    assert one_line_error(waited, 1).endswith(f"job run {job_id} CANCELLED JobRun CANCELLED successfully.")

    done = submitted_id(emr_cli("submit", "--config", str(EXAMPLE_TOML), "--virtual-cluster-id", vc,
                                 "--release-label", MOTO_RELEASE, "--output", "s3://fruits-features-prod/b", env=env))
    emr_server.job_run(done).state = "COMPLETED"
    refused = emr_cli("cancel", done, "--virtual-cluster-id", vc, env=env)
    assert one_line_error(refused, 1).endswith(f"job run {done} already finished (COMPLETED); nothing to cancel")
    assert emr_server.job_run(done).state == "COMPLETED"


def test_service_errors_are_one_line(emr_server, env, vc, emr_cli):
    unknown_vc = one_line_error(emr_cli("submit", "--config", str(EXAMPLE_TOML), "--release-label", MOTO_RELEASE,
                                        "--virtual-cluster-id", "0000000000000000000000000", env=env), 1)
    assert "StartJobRun failed: ResourceNotFoundException: Virtual cluster 0000000000000000000000000 doesn't exist." \
        in unknown_vc
    bad_release = one_line_error(emr_cli("submit", "--config", str(EXAMPLE_TOML), "--virtual-cluster-id", vc,
                                         "--release-label", "emr-0.0.0-nope", env=env), 1)
    assert "ResourceNotFoundException: Release emr-0.0.0-nope doesn't exist." in bad_release
    unknown_job = one_line_error(emr_cli("status", "a" * 19, "--virtual-cluster-id", vc, env=env), 1)
    assert f"DescribeJobRun failed: ResourceNotFoundException: Job run {'a' * 19} doesn't exist." in unknown_job


def test_no_credentials_no_region_and_unreachable_endpoints_are_one_line(emr_server, vc, tmp_path, emr_cli):
    no_creds = aws_env(tmp_path, AWS_ENDPOINT_URL=emr_server.endpoint, AWS_REGION="eu-west-1")
    line = one_line_error(emr_cli("status", "a" * 19, "--virtual-cluster-id", vc, env=no_creds), 1)
    assert "no AWS credentials found" in line

    no_region = aws_env(tmp_path, AWS_ENDPOINT_URL=emr_server.endpoint, AWS_ACCESS_KEY_ID="AKIDX",
                        AWS_SECRET_ACCESS_KEY="not-real")
    assert "no AWS region" in one_line_error(emr_cli("status", "a" * 19, "--virtual-cluster-id", vc,
                                                     env=no_region), 2)

    from infra.net import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = emr_server.env(tmp_path)
    line = one_line_error(emr_cli("status", "a" * 19, "--virtual-cluster-id", vc, "--endpoint-url", closed,
                                  env=unreachable), 1)
    assert f"cannot reach the EMR on EKS endpoint {closed}/virtualclusters/{vc}/jobruns/{'a' * 19}" in line
    invalid = one_line_error(emr_cli("status", "a" * 19, "--virtual-cluster-id", vc, "--endpoint-url", "not a url",
                                     env=unreachable), 2)
    assert "invalid --endpoint-url" in invalid
    assert "emr-test-secret-not-real" not in line + invalid


def test_dry_run_calls_nothing_and_needs_no_aws_setup(tmp_path):
    env = aws_env(tmp_path, AWS_ENDPOINT_URL="http://127.0.0.1:9")   # no credentials, no region, dead endpoint
    first = run_emr("submit", "--config", str(EXAMPLE_TOML), "--dry-run", env=env)
    second = run_emr("submit", "--config", str(EXAMPLE_TOML), "--dry-run", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stderr == second.stderr == ""
    assert json.loads(first.stdout)["virtualClusterId"] == "3d9jti9ahl2vjq5qbk5ihfojr"


@pytest.mark.parametrize("args,code,needle", [
    (["submit", "--config", str(EXAMPLE_TOML), "--input", "data/bank", "--dry-run"], 2,
     "input must be an s3:// URI, got 'data/bank'"),
    (["submit", "--input", "s3://b/in", "--output", "s3://b/out", "--dry-run"], 2,
     "emr.virtual_cluster_id is required"),
    (["submit", "--config", str(EXAMPLE_TOML), "--tag", "oops", "--dry-run"], 2, "expected KEY=VALUE, got 'oops'"),
    (["status", "abc"], 2, "the virtual cluster id is required"),
    (["wait", "abc", "--virtual-cluster-id", "vc1", "--interval", "0"], 2, "--interval must be > 0 seconds, got 0"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
])
def test_usage_errors(tmp_path, args, code, needle, emr_cli):
    proc = emr_cli(*args, env=aws_env(tmp_path))
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
