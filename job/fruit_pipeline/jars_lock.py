"""The S3A jar lock (resources/jars.lock): parse it, and fetch its jars from Maven Central, sha256-checked.

Standard library only: image/fetch_jars.py (the image build, `make jars`) loads this file by path, before the
package or its dependencies exist. The job fetches the jars on first use (`stages/s3_conf.ensure_jars`).
`python -m fruit_pipeline.jars_lock DIR` does the same by hand. SSL_CERT_FILE may name extra CA certificates;
FRUIT_PIPELINE_MAVEN_REPO (or MAVEN_REPO) another Maven repository (https:// or file://).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOCK = Path(__file__).resolve().parent / "resources" / "jars.lock"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


class JarError(RuntimeError):
    """A jar could not be downloaded or did not match its checksum (one line)."""


@dataclass(frozen=True)
class LockedJar:
    group: str
    artifact: str
    version: str
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    @property
    def maven_path(self) -> str:
        """Path of the jar below a Maven repository root."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file_name}"


def read_lock(lock: Path = LOCK) -> list[LockedJar]:
    """One entry per `group:artifact:version sha256` line; blank lines and `#` comments are skipped."""
    jars = []
    for number, line in enumerate(lock.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            coordinates, digest = line.split()
            group, artifact, version = coordinates.split(":")
        except ValueError:
            raise ValueError(f"{lock}:{number}: expected 'group:artifact:version sha256', got {line!r}") from None
        jars.append(LockedJar(group, artifact, version, digest.lower()))
    return jars


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def repository() -> str:
    return os.environ.get("FRUIT_PIPELINE_MAVEN_REPO") or os.environ.get("MAVEN_REPO") or MAVEN_CENTRAL


def is_present(jar: LockedJar, dest: Path) -> bool:
    target = dest / jar.file_name
    return target.is_file() and sha256(target) == jar.sha256


def fetch(jar: LockedJar, dest: Path, repo: str | None = None) -> Path:
    """DEST/<artifact>-<version>.jar, downloaded only if missing or wrong; written atomically once verified."""
    target = dest / jar.file_name
    if is_present(jar, dest):
        return target
    url = f"{(repo or repository()).rstrip('/')}/{jar.maven_path}"
    dest.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    try:
        opener = {"context": ctx} if url.startswith("https:") else {}
        with urllib.request.urlopen(url, timeout=120, **opener) as resp, part.open("wb") as out:
            while block := resp.read(1 << 20):
                out.write(block)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise JarError(f"cannot download {url}: {getattr(exc, 'reason', None) or exc}") from None
    got = sha256(part)
    if got != jar.sha256:
        part.unlink()
        raise JarError(f"checksum mismatch for {url}: expected sha256 {jar.sha256}, got {got}")
    part.replace(target)
    return target


def fetch_all(dest: Path, lock: Path = LOCK, repo: str | None = None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    return [fetch(jar, dest, repo) for jar in read_lock(lock)]


def main(argv: list[str]) -> int:
    """`python -m fruit_pipeline.jars_lock DIR`: fetch every locked jar into DIR; prints their paths."""
    if len(argv) != 1:
        print("usage: python -m fruit_pipeline.jars_lock DIR", file=sys.stderr)
        return 2
    try:
        for path in fetch_all(Path(argv[0])):
            print(path)
    except JarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
