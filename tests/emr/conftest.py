"""EMR on EKS tests: moto's server mode (`emr-containers` over real HTTP on a free loopback port) and a CLI runner
whose AWS environment holds nothing from this machine."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, require
from infra.net import free_port, wait_until

EXAMPLE_TOML = ROOT / "k8s" / "emr" / "job.toml"
EXAMPLE_JSON = ROOT / "k8s" / "emr" / "start-job-run.json"
EXAMPLE_ACK = ROOT / "k8s" / "emr" / "jobrun-ack.yaml"
# moto accepts only emr-X.Y.0-latest style labels, not the emr-spark-8.0.0-latest the job defaults to.
MOTO_RELEASE = "emr-7.12.0-latest"
ROLE = "arn:aws:iam::123456789012:role/fruit-pipeline-emr-job"


def aws_env(tmp: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any AWS_* variable, with empty shared config files and no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "FRUIT_PIPELINE_PUSHGATEWAY"}
    env.update({"AWS_CONFIG_FILE": str(tmp / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-creds"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"})
    env.update(extra)
    return env


def run_emr(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`fruit-pipeline emr ARGS` in a subprocess with exactly `env`."""
    return subprocess.run([sys.executable, "-m", "fruit_pipeline", "emr", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture
def emr_cli(monkeypatch, capsys):
    """`fruit-pipeline emr ARGS` in this process (quicker; for error paths), with `env`'s AWS variables only."""
    from fruit_pipeline.cli import main

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        for name in list(os.environ):
            if name.startswith("AWS_") or name == "FRUIT_PIPELINE_PUSHGATEWAY":
                monkeypatch.delenv(name)
        for name, value in env.items():
            if name.startswith("AWS_"):
                monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(["emr", *args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


@dataclass(frozen=True)
class EmrServer:
    endpoint: str
    region: str = "eu-west-1"
    account: str = "123456789012"

    def env(self, tmp: Path) -> dict[str, str]:
        return aws_env(tmp, AWS_ENDPOINT_URL=self.endpoint, AWS_REGION=self.region,
                       AWS_ACCESS_KEY_ID="AKIDTESTEMR", AWS_SECRET_ACCESS_KEY="emr-test-secret-not-real")

    def client(self):
        import boto3

        return boto3.client("emr-containers", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="AKIDTESTEMR", aws_secret_access_key="emr-test-secret-not-real")

    def virtual_cluster(self, name: str) -> str:
        provider = {"id": "fruit-eks", "type": "EKS", "info": {"eksInfo": {"namespace": name}}}  # one per namespace
        return self.client().create_virtual_cluster(name=name, containerProvider=provider)["id"]

    def job_run(self, job_run_id: str):
        """moto's own record of a job run, to move it along as EMR would (RUNNING -> COMPLETED/FAILED)."""
        from moto.backends import get_backend

        return get_backend("emr-containers")[self.account][self.region].job_runs[job_run_id]


@pytest.fixture(scope="session")
def emr_server():
    """moto in server mode in this process (its werkzeug thread), answering emr-containers on 127.0.0.1."""
    require(importlib.util.find_spec("moto.server") is not None and importlib.util.find_spec("flask") is not None,
            "moto[server]", "pip install -e '.[test]' (or make dev)")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), 10, errors=(OSError,))
    yield EmrServer(f"http://127.0.0.1:{port}")
    server.stop()
