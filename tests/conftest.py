"""Shared fixtures. Real components only; a missing one skips locally and fails in CI (CI=true)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRUIT_PIPELINE_SHARED", ROOT.parent / "shared"))
FRUITS360 = SHARED / "fruits360-sample"
SCHEMAS = SHARED / "schemas"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

sys.path.insert(0, str(ROOT / "tests"))

pytest_plugins = ["infra.docker_fixtures", "infra.s3_fixtures", "infra.prometheus_fixtures"]


def require(ok: bool, component: str, how_to_install: str) -> None:
    """Skip (local) or fail (CI) when a real component is missing, saying how to install it."""
    if ok:
        return
    message = f"{component} is not available; install it with: {how_to_install}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def fruits360() -> Path:
    require(FRUITS360.is_dir(), "the shared Fruits-360 sample (../shared/fruits360-sample)",
            "check out the steering repository's shared/ folder beside this repository")
    return FRUITS360


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the in-process Spark tests (2 cores, like CI)."""
    from fruit_pipeline.config import PipelineConfig, SparkConfig
    from fruit_pipeline.stages.session import build_session

    cfg = PipelineConfig(spark=SparkConfig(master="local[2]"))
    session = build_session(cfg)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory) -> Path:
    """A small synthetic bank (5 classes x 24 images), shared by the Spark tests."""
    from fruit_pipeline.sample_bank import BankSpec, write_bank

    out = tmp_path_factory.mktemp("bank")
    write_bank(BankSpec(out, classes=5, per_class=24, test_fraction=0.25, seed=3), workers=1)
    return out


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `fruit-pipeline ARGS` in a subprocess of this interpreter, capturing output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "fruit_pipeline", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)
