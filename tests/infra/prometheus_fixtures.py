"""Real Prometheus and Pushgateway on loopback free ports, with a generated scrape config."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .net import free_port, http_get, wait_http  # noqa: F401 (free_port, http_get re-used by tests)

INSTALL = "bash tests/infra/install-system-deps.sh (Debian packages prometheus, prometheus-pushgateway)"


@dataclass
class Prometheus:
    """A running Prometheus: its URL and a query helper."""

    url: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = http_get(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return json.loads(body)["data"]["result"]

    def names(self) -> set[str]:
        return set(json.loads(http_get(f"{self.url}/api/v1/label/__name__/values"))["data"])


def scrape_config(targets: dict[str, tuple[str, str]], interval: str = "1s") -> str:
    """prometheus.yml: one job per target name -> (host:port, metrics path)."""
    lines = ["global:", f"  scrape_interval: {interval}", f"  evaluation_interval: {interval}", "scrape_configs:"]
    for job, (address, path) in targets.items():
        lines += [f"  - job_name: {job}", f"    metrics_path: {path}", f"    scrape_timeout: {interval}",
                  "    static_configs:", f"      - targets: ['{address}']"]
    return "\n".join(lines) + "\n"


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def pushgateway(tmp_path):
    """A Pushgateway on a free loopback port with a fresh persistence file of its own; yields its URL.

    Debian's build persists to /var/lib/prometheus/pushgateway.data by default, so without the flag every instance
    would load (and rewrite) the push groups of every earlier test run on the machine."""
    from conftest import require

    require(shutil.which("prometheus-pushgateway") is not None, "prometheus-pushgateway", INSTALL)
    port = free_port()
    proc = _start(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}",
                   f"--persistence.file={tmp_path / 'pushgateway.data'}"], tmp_path / "pushgateway.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/-/ready")
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def start_prometheus(tmp_path):
    """Factory: start Prometheus scraping `targets` (job -> (host:port, path)); stopped at teardown."""
    from conftest import require

    require(shutil.which("prometheus") is not None, "prometheus", INSTALL)
    procs: list[subprocess.Popen] = []

    def start(targets: dict[str, tuple[str, str]]) -> Prometheus:
        port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(scrape_config(targets))
        procs.append(_start(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "prometheus.log"))
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/-/ready")
        return Prometheus(url)

    yield start
    for proc in procs:
        _stop(proc)
