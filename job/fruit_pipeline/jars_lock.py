"""The S3A jar lock (image/jars.lock): the one parser for the job's local classpath and image/fetch_jars.py.

Standard library only: image/fetch_jars.py loads this file by path, before the package or its dependencies exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


def read_lock(lock: Path) -> list[LockedJar]:
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
