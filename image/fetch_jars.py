#!/usr/bin/env python3
"""Download the jars listed in image/jars.lock from Maven Central into DIR, verifying sha256; cached files are reused."""
from __future__ import annotations

import hashlib
import os
import ssl
import sys
import urllib.request
from pathlib import Path

REPO = os.environ.get("MAVEN_REPO", "https://repo1.maven.org/maven2")
LOCK = Path(__file__).with_name("jars.lock")


def entries(lock: Path) -> list[tuple[str, str, str, str]]:
    """(group, artifact, version, sha256) per non-comment line."""
    rows = []
    for line in lock.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            coord, digest = line.split()
            group, artifact, version = coord.split(":")
            rows.append((group, artifact, version, digest.lower()))
    return rows


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(group: str, artifact: str, version: str, digest: str, dest: Path) -> Path:
    """Return DEST/artifact-version.jar, downloading it only if missing or wrong."""
    target = dest / f"{artifact}-{version}.jar"
    if target.exists() and sha256(target) == digest:
        return target
    url = f"{REPO}/{group.replace('.', '/')}/{artifact}/{version}/{target.name}"
    part = target.with_suffix(".jar.part")
    ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    with urllib.request.urlopen(url, context=ctx, timeout=120) as resp, part.open("wb") as out:
        while block := resp.read(1 << 20):
            out.write(block)
    got = sha256(part)
    if got != digest:
        part.unlink()
        raise SystemExit(f"checksum mismatch for {url}: expected {digest}, got {got}")
    part.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: fetch_jars.py DIR", file=sys.stderr)
        return 2
    dest = Path(argv[0])
    dest.mkdir(parents=True, exist_ok=True)
    for row in entries(LOCK):
        print(fetch(*row, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
