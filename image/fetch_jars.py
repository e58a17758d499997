#!/usr/bin/env python3
"""Download the jars listed in image/jars.lock from Maven Central into DIR, verifying sha256; cached files are reused.

Runs before the project is installed (`make jars`, the image's jars build stage), so the lock parser
(job/fruit_pipeline/jars_lock.py, stdlib only) is loaded by path. SSL_CERT_FILE may name extra CA certificates.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import ssl
import sys
import urllib.request
from pathlib import Path

REPO = os.environ.get("MAVEN_REPO", "https://repo1.maven.org/maven2")
HERE = Path(__file__).resolve().parent
LOCK = HERE / "jars.lock"
PARSER = HERE.parent / "job" / "fruit_pipeline" / "jars_lock.py"


def _jars_lock():
    spec = importlib.util.spec_from_file_location("jars_lock", PARSER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(jar, dest: Path) -> Path:
    """Return DEST/<artifact>-<version>.jar, downloading it only if missing or wrong."""
    target = dest / jar.file_name
    if target.exists() and sha256(target) == jar.sha256:
        return target
    url = f"{REPO}/{jar.maven_path}"
    part = target.with_suffix(".jar.part")
    ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    with urllib.request.urlopen(url, context=ctx, timeout=120) as resp, part.open("wb") as out:
        while block := resp.read(1 << 20):
            out.write(block)
    got = sha256(part)
    if got != jar.sha256:
        part.unlink()
        raise SystemExit(f"checksum mismatch for {url}: expected {jar.sha256}, got {got}")
    part.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: fetch_jars.py DIR", file=sys.stderr)
        return 2
    dest = Path(argv[0])
    dest.mkdir(parents=True, exist_ok=True)
    for jar in _jars_lock().read_lock(LOCK):
        print(fetch(jar, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
