"""Loopback helpers the server fixtures share: free ports, HTTP GET, waiting until a server answers."""

from __future__ import annotations

import socket
import time
import urllib.request
from typing import Callable, Sequence


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port(also_free: Sequence[int] = ()) -> int:
    """A free loopback port p; with `also_free` offsets, p + each offset is free too (e.g. SeaweedFS gRPC +10000)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if all(port + off < 65536 and _bindable(port + off) for off in also_free):
            return port


def http_get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read()


def wait_until(probe: Callable[[], object], seconds: float = 20, interval: float = 0.2,
               alive: Callable[[], bool] = lambda: True, errors: tuple[type[BaseException], ...] = (Exception,)) -> None:
    """Call `probe` until it returns; its last error is raised after `seconds` or as soon as `alive()` is false."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            probe()
            return
        except errors:
            if not alive() or time.monotonic() > deadline:
                raise
            time.sleep(interval)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 20, interval: float = 0.2,
             alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until `condition()` is truthy (errors it raises meanwhile are retried); AssertionError naming `what`
    on timeout or once `alive()` is false."""
    def probe() -> None:
        if not condition():
            raise AssertionError(f"timed out waiting for {what}" if alive() else f"the process ended before {what}")

    wait_until(probe, seconds, interval, alive=alive)


def wait_http(url: str, seconds: float = 20) -> None:
    """Wait until `url` answers 2xx/3xx."""
    wait_until(lambda: http_get(url, timeout=1), seconds, errors=(OSError,))
