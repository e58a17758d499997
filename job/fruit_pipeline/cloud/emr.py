"""`fruit-pipeline emr submit|status|wait|cancel`: the job on Amazon EMR on EKS through boto3 `emr-containers`.

The request comes from `emr_request.build_request`; here are the AWS calls, the request's validation against
botocore's own service model, and AWS failures turned into one-line errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from ..errors import PipelineError, UsageError

log = logging.getLogger(__name__)

SERVICE = "emr-containers"
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
EXIT_TIMEOUT = 3


class WaitTimeout(PipelineError):
    """`emr wait` gave up; the job run goes on (exit 3, so scripts can tell it from a failed run)."""

    exit_code = EXIT_TIMEOUT


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --- the request against botocore's service model -------------------------------------------------------------

def _operation_input(operation: str = "StartJobRun"):
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE).operation_model(operation).input_shape


def rule_problems(value: Any, shape, path: str = "") -> list[str]:
    """Length, pattern and enum rules of the service model, which botocore leaves to the server."""
    where = path or shape.name
    meta = shape.metadata
    problems: list[str] = []
    if shape.type_name in ("list", "map") and len(value) > meta.get("max", len(value)):
        problems.append(f"{where} has more than {meta['max']} entries")
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value:
                problems += rule_problems(value[name], member, f"{path}.{name}" if path else name)
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += rule_problems(item, shape.member, f"{where}[{index}]")
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            problems += rule_problems(key, shape.key, f"{where} key {key!r}")
            problems += rule_problems(item, shape.value, f"{where}[{key!r}]")
    elif shape.type_name == "string" and isinstance(value, str):
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{where} must be {meta.get('min', 0)}-{meta.get('max')} characters, got {len(value)}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value, re.DOTALL):
            problems.append(f"{where} {value!r} does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{where} must be one of {', '.join(shape.enum)}")
    return problems


def check_request(request: Mapping[str, Any]) -> None:
    """botocore's own parameter validation of StartJobRun plus the model's length/pattern rules; UsageError."""
    from botocore.validate import ParamValidator

    shape = _operation_input()
    report = ParamValidator().validate(request, shape)
    problems = [_one_line(report.generate_report())] if report.has_errors() else []
    problems += rule_problems(request, shape)
    if problems:
        raise UsageError(f"invalid StartJobRun request: {'; '.join(problems)}")


# --- AWS calls ----------------------------------------------------------------------------------------------------

@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """AWS/botocore failures as one-line PipelineError / UsageError (no traceback, no request content)."""
    from botocore import exceptions as bx

    try:
        yield
    except bx.ClientError as exc:
        error = exc.response.get("Error", {})
        raise PipelineError(f"{action} failed: {error.get('Code', 'error')}: {_one_line(error.get('Message', ''))}") \
            from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise PipelineError(f"{action}: no AWS credentials found (environment, shared config/SSO, web identity "
                            "or instance role)") from None
    except bx.NoRegionError:
        raise UsageError(f"{action}: no AWS region: pass --region, set `region` in [emr], AWS_REGION or "
                         "AWS_DEFAULT_REGION") from None
    except bx.EndpointConnectionError as exc:
        raise PipelineError(f"{action}: cannot reach the EMR on EKS endpoint {exc.kwargs.get('endpoint_url')}") \
            from None
    except (bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
        raise PipelineError(f"{action}: timed out talking to {exc.kwargs.get('endpoint_url')}") from None
    except bx.ParamValidationError as exc:
        raise UsageError(f"{action}: {_one_line(exc)}") from None
    except bx.BotoCoreError as exc:
        raise PipelineError(f"{action}: {_one_line(exc)}") from None


def make_client(region: str = "", endpoint_url: str = ""):
    """boto3 `emr-containers` client. Region: given, else AWS_REGION (the other SDKs' variable, which botocore
    ignores), else botocore's chain (AWS_DEFAULT_REGION, shared config). Endpoint: given, else boto3's own
    AWS_ENDPOINT_URL_EMR_CONTAINERS / AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {"config": Config(retries={"mode": "standard"}, connect_timeout=10, read_timeout=60)}
    region = region or os.environ.get("AWS_REGION", "")
    if region:
        kwargs["region_name"] = region
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    with aws_errors("EMR on EKS client"):
        try:
            return boto3.session.Session().client(SERVICE, **kwargs)  # a fresh session: nothing cached between calls
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            raise UsageError(f"invalid --endpoint-url: {_one_line(exc)}") from None


def start(client, request: Mapping[str, Any]) -> dict[str, Any]:
    """StartJobRun; returns {id, name, arn, virtualClusterId}."""
    with aws_errors("StartJobRun"):
        return client.start_job_run(**request)


def describe(client, virtual_cluster_id: str, job_run_id: str) -> dict[str, Any]:
    with aws_errors("DescribeJobRun"):
        return client.describe_job_run(id=job_run_id, virtualClusterId=virtual_cluster_id)["jobRun"]


def status_line(job: Mapping[str, Any]) -> str:
    """`ID STATE[ (failureReason)][ stateDetails]` on one line."""
    line = f"{job['id']} {job['state']}"
    if job.get("failureReason"):
        line += f" ({job['failureReason']})"
    if job.get("stateDetails"):
        line += f" {_one_line(job['stateDetails'])}"
    return line


def wait(client, virtual_cluster_id: str, job_run_id: str, timeout: float = 0, interval: float = 30,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until the job run is COMPLETED, FAILED or CANCELLED (timeout 0 = no limit); logs each state on the way."""
    deadline = clock() + timeout if timeout > 0 else None
    seen = ""
    while True:
        job = describe(client, virtual_cluster_id, job_run_id)
        if job["state"] in TERMINAL:
            return job
        if job["state"] != seen:
            seen = job["state"]
            log.info("%s", status_line(job))
        if deadline is not None and clock() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for job run {job_run_id}, still {seen}")
        sleep(interval if deadline is None else max(0.0, min(interval, deadline - clock())))


def cancel(client, virtual_cluster_id: str, job_run_id: str) -> dict[str, Any]:
    """CancelJobRun unless already cancelled (idempotent); a finished run cannot be cancelled."""
    job = describe(client, virtual_cluster_id, job_run_id)
    if job["state"] in ("CANCELLED", "CANCEL_PENDING"):
        return job
    if job["state"] in TERMINAL:
        raise PipelineError(f"job run {job_run_id} already finished ({job['state']}); nothing to cancel")
    with aws_errors("CancelJobRun"):
        client.cancel_job_run(id=job_run_id, virtualClusterId=virtual_cluster_id)
    return describe(client, virtual_cluster_id, job_run_id)


def finished(job: Mapping[str, Any]) -> int:
    """Exit status for a terminal job run: 0 when COMPLETED, else a one-line PipelineError with the reason."""
    if job["state"] == "COMPLETED":
        return 0
    raise PipelineError(f"job run {status_line(job)}")


# --- command line -------------------------------------------------------------------------------------------------

# [emr] fields settable on the command line: (flag, EmrConfig field, type, metavar, help).
SUBMIT_OPTIONS: tuple[tuple[str, str, type, str, str], ...] = (
    ("--virtual-cluster-id", "virtual_cluster_id", str, "ID", "EMR virtual cluster id (required)"),
    ("--execution-role-arn", "execution_role_arn", str, "ARN", "IAM job execution role ARN (required)"),
    ("--release-label", "release_label", str, "LABEL", "EMR release (default emr-spark-8.0.0-latest: Spark 4.0)"),
    ("--entry-point", "entry_point", str, "URI", "URI of run_job.py (default: the one in the image/emr image)"),
    ("--name", "job_name", str, "NAME", "job run name (default fruit-pipeline)"),
    ("--image", "image", str, "IMAGE", "custom image URI (image/emr/Dockerfile); default: the release's image"),
    ("--venv-archive", "venv_archive", str, "S3_URI", "s3:// tar.gz of a venv with the job (stock EMR image)"),
    ("--driver-cores", "driver_cores", int, "N", "driver cores (default 1)"),
    ("--driver-memory", "driver_memory", str, "SIZE", "driver memory (default 4g)"),
    ("--executor-cores", "executor_cores", int, "N", "cores per executor (default 4)"),
    ("--executor-memory", "executor_memory", str, "SIZE", "memory per executor (default 8g)"),
    ("--executor-instances", "executor_instances", int, "N", "executors (default 2)"),
    ("--log-uri", "log_uri", str, "S3_URI", "s3:// prefix for driver/executor logs"),
    ("--log-group", "log_group", str, "GROUP", "CloudWatch Logs group for driver/executor logs"),
    ("--log-stream-prefix", "log_stream_prefix", str, "PREFIX", "CloudWatch stream prefix (default fruit-pipeline)"),
    ("--retry-max-attempts", "retry_max_attempts", int, "N", "driver attempts (retryPolicyConfiguration, default 1)"),
    ("--client-token", "client_token", str, "TOKEN", "idempotency token (default: hash of the request)"),
    ("--region", "region", str, "REGION", "AWS region"),
)


def _kv(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


def _submit_overrides(args: argparse.Namespace) -> dict[str, Any]:
    emr: dict[str, Any] = {field: getattr(args, field) for _, field, _, _, _ in SUBMIT_OPTIONS
                           if getattr(args, field) is not None}
    if args.no_persistent_app_ui:
        emr["persistent_app_ui"] = False
    if args.tag:
        emr["tags"] = dict(args.tag)
    out: dict[str, Any] = {"emr": emr}
    for name in ("input", "output"):
        if getattr(args, name) is not None:
            out[name] = getattr(args, name)
    if args.conf:
        out["spark"] = {"conf": dict(args.conf)}
    return out


def _config(args: argparse.Namespace, overrides: dict[str, Any]):
    from ..config import build_config

    return build_config(args.config, overrides)


def _client_for(args: argparse.Namespace, cfg):
    return make_client(args.region or cfg.emr.region, args.endpoint_url or "")


def _virtual_cluster(args: argparse.Namespace, cfg) -> str:
    vc = args.virtual_cluster_id or cfg.emr.virtual_cluster_id
    if not vc:
        raise UsageError("the virtual cluster id is required (--virtual-cluster-id or `virtual_cluster_id` in [emr])")
    return vc


def _check_wait_options(args: argparse.Namespace) -> None:
    if args.interval <= 0:
        raise UsageError(f"--interval must be > 0 seconds, got {args.interval:g}")


def _wait_and_report(client, vc: str, job_run_id: str, args: argparse.Namespace) -> int:
    job = wait(client, vc, job_run_id, args.timeout, args.interval)
    print(status_line(job))
    return finished(job)


def cmd_submit(args: argparse.Namespace) -> int:
    from .emr_request import build_request, to_json

    cfg = _config(args, _submit_overrides(args))
    if args.wait:
        _check_wait_options(args)
    request = build_request(cfg)
    check_request(request)
    if args.dry_run:
        sys.stdout.write(to_json(request))
        return 0
    client = _client_for(args, cfg)
    response = start(client, request)
    print(response["id"])
    vc = response.get("virtualClusterId", request["virtualClusterId"])
    log.info("submitted job run %s (%s) to virtual cluster %s; follow it with: fruit-pipeline emr wait "
             "--virtual-cluster-id %s %s", response["id"], response.get("name", ""), vc, vc, response["id"])
    return _wait_and_report(client, vc, response["id"], args) if args.wait else 0


def cmd_status(args: argparse.Namespace) -> int:
    cfg = _config(args, {})
    vc = _virtual_cluster(args, cfg)
    print(status_line(describe(_client_for(args, cfg), vc, args.job_run_id)))
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    cfg = _config(args, {})
    vc = _virtual_cluster(args, cfg)
    _check_wait_options(args)
    return _wait_and_report(_client_for(args, cfg), vc, args.job_run_id, args)


def cmd_cancel(args: argparse.Namespace) -> int:
    cfg = _config(args, {})
    vc = _virtual_cluster(args, cfg)
    print(status_line(cancel(_client_for(args, cfg), vc, args.job_run_id)))
    return 0


def _common(p: argparse.ArgumentParser, with_region: bool = True) -> None:
    p.add_argument("--config", metavar="FILE", help="TOML file; its [emr] section supplies defaults for these options")
    p.add_argument("--endpoint-url", metavar="URL", help="EMR on EKS endpoint (default: AWS_ENDPOINT_URL or AWS's)")
    if with_region:
        p.add_argument("--region", help="AWS region (default: [emr] region, AWS_REGION, AWS_DEFAULT_REGION, "
                                        "~/.aws/config)")


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                   help=f"give up after this long, exit {EXIT_TIMEOUT} (default 0: no limit)")
    p.add_argument("--interval", type=float, default=30, metavar="SECONDS", help="poll interval (default 30)")


def _follow_parser(actions, name: str, help_text: str, handler) -> argparse.ArgumentParser:
    p = actions.add_parser(name, help=help_text, description=help_text + ".")
    p.add_argument("job_run_id", metavar="JOB_RUN_ID", help="the id `emr submit` printed")
    p.add_argument("--virtual-cluster-id", metavar="ID",
                   help="EMR virtual cluster id (or `virtual_cluster_id` in [emr])")
    _common(p)
    p.set_defaults(handler=handler)
    return p


def register(sub) -> None:
    """Add `emr submit|status|wait|cancel` to the CLI's subparsers."""
    emr = sub.add_parser("emr", help="run the job on Amazon EMR on EKS (StartJobRun) and follow it",
                         description="Submit the job to an EMR on EKS virtual cluster and follow the job run. "
                                     "AWS credentials and region come from the AWS default chain.")
    actions = emr.add_subparsers(dest="emr_command", metavar="ACTION", parser_class=type(emr))
    actions.required = True

    submit = actions.add_parser(
        "submit", help="start a job run (or print the request with --dry-run)",
        description="Build the StartJobRun request from the job settings (--config TOML, its [emr] section, "
                    "these options) and start it. Prints the job run id. Resubmitting an identical request "
                    "returns the same job run (clientToken = hash of the request).",
        epilog="example: fruit-pipeline emr submit --config k8s/emr/job.toml --dry-run")
    submit.add_argument("--input", metavar="S3_URI", help="image bank, s3://bucket/prefix (or `input` in the config)")
    submit.add_argument("--output", metavar="S3_URI", help="output, s3://bucket/prefix (or `output` in the config)")
    for flag, field, kind, metavar, help_text in SUBMIT_OPTIONS:
        if flag != "--region":
            submit.add_argument(flag, dest=field, type=kind, metavar=metavar, help=help_text)
    submit.add_argument("--no-persistent-app-ui", action="store_true", help="no Spark History UI after the run")
    submit.add_argument("--tag", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                        help="tag the job run, repeatable")
    submit.add_argument("--conf", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                        help="extra Spark setting for the job, repeatable")
    submit.add_argument("--dry-run", action="store_true", help="print the request as JSON and call nothing")
    submit.add_argument("--wait", action="store_true", help="then wait for the job run like `emr wait`")
    _wait_options(submit)
    _common(submit)
    submit.set_defaults(handler=cmd_submit)

    _follow_parser(actions, "status", "print one line: job run id, state, failure reason and details", cmd_status)
    waiter = _follow_parser(actions, "wait", "wait for a job run to finish: exit 0 when COMPLETED, 1 when "
                                             f"FAILED or CANCELLED, {EXIT_TIMEOUT} on --timeout", cmd_wait)
    _wait_options(waiter)
    _follow_parser(actions, "cancel", "cancel a job run (already cancelled: no-op)", cmd_cancel)
