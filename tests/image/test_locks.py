"""The image's dependency files agree with pyproject.toml (no engine needed)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYTHON = {"python_version": "3.11", "python_full_version": "3.11.2"}  # Debian bookworm, the image's Python


def _project_requirements() -> list[Requirement]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [Requirement(d) for d in deps]


def _lock_pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) from image/requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "image" / "requirements.lock").read_text()):
        first = block.splitlines()[0]
        if first.startswith("#") or "==" not in first:
            continue
        name, version = first.split("==")
        pins[canonicalize_name(name)] = (version.split()[0], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return pins


def test_lock_pins_every_dependency_within_its_range_with_hashes():
    pins = _lock_pins()
    assert len(pins) >= 20, "the lock must include the transitive dependencies too"
    for req in _project_requirements():
        if req.marker and not req.marker.evaluate(PYTHON):
            continue  # e.g. tomli, only for Python < 3.11
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is missing from image/requirements.lock (run image/lock-requirements.sh)"
        version, hashes = pins[name]
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} is outside {req.specifier}"
    for name, (version, hashes) in pins.items():
        assert hashes, f"{name}=={version} has no --hash (pip install --require-hashes would refuse the lock)"


def test_emr_requirements_are_pyproject_minus_pyspark():
    emr = [Requirement(line) for line in (ROOT / "image" / "emr" / "requirements.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    expected = [r for r in _project_requirements() if canonicalize_name(r.name) != "pyspark"]
    assert sorted(map(str, emr)) == sorted(map(str, expected))
