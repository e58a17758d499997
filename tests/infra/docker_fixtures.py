"""Docker fixtures: a real engine (the running one, or a private dockerd) and the image built this session.

- `docker_engine`: the engine `docker info` answers (DOCKER_HOST or the default socket), left running; otherwise a
  private `dockerd` (host networking only) with data root, exec root, pidfile and socket under <repo>/.cache/docker,
  stopped at session end. Either way every container created through `docker_engine.run("run"|"create", ...)` is
  labelled with the session id and force-removed at session end, also after failures.
- `pipeline_image`: built from the work tree with image/docker_build.py (the same code as `make image`), base
  `debian:bookworm-slim` seeded with debootstrap when no registry is reachable, host CA bundle as the build secret.
  Tag: FRUIT_PIPELINE_TEST_IMAGE_TAG (default fruit-pipeline:test).
  FRUIT_PIPELINE_TEST_IMAGE=TAG uses that prebuilt image without building: for fast local iteration only; CI never
  sets it, so CI always builds the image from the work tree.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_spec = importlib.util.spec_from_file_location("fruit_pipeline_docker_build", ROOT / "image" / "docker_build.py")
docker_build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = docker_build
_spec.loader.exec_module(docker_build)

DockerEngine = docker_build.DockerEngine
INSTALL = "make system-deps (apt-get install docker.io debootstrap)"
STATE = ROOT / ".cache" / "docker"
BUILD_LOG = ROOT / ".cache" / "image-test-build.log"


@pytest.fixture(scope="session")
def docker_engine() -> DockerEngine:
    from conftest import require

    require(Path(docker_build.DOCKER).exists() and bool(shutil.which("dockerd") or Path("/usr/sbin/dockerd").exists()),
            "Docker engine (Debian docker.io)", INSTALL)
    force_private = os.environ.get("FRUIT_PIPELINE_PRIVATE_DOCKER", "") == "1"
    try:
        engine = docker_build.connect(STATE, force_private=force_private)
    except docker_build.EngineError as exc:
        require(False, f"Docker engine ({exc})", INSTALL)
    private = engine.private is not None
    try:
        yield engine
    finally:
        engine.stop()
    if private:
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        left = [m for m in mounts if m.startswith(str(STATE))]
        assert not left, f"mounts left under {STATE} by the private dockerd: {left}"


@pytest.fixture(scope="session")
def pipeline_image(docker_engine: DockerEngine) -> str:
    from conftest import require

    prebuilt = os.environ.get("FRUIT_PIPELINE_TEST_IMAGE", "")
    if prebuilt:
        if IN_CI:
            pytest.fail("FRUIT_PIPELINE_TEST_IMAGE is for local iteration only; CI must build the image", pytrace=False)
        docker_engine.run("image", "inspect", prebuilt)
        return prebuilt
    tag = os.environ.get("FRUIT_PIPELINE_TEST_IMAGE_TAG", "fruit-pipeline:test")
    try:
        docker_build.ensure_base(docker_engine, docker_build.DEFAULT_BASE, STATE / "debootstrap.log")
    except docker_build.EngineError as exc:
        require(False, f"base image ({exc})", INSTALL)
    seconds = docker_build.build(docker_engine, tag, ca_bundle=docker_build.HOST_CA, log=BUILD_LOG)
    size = docker_build.image_size(docker_engine, tag)
    print(f"\nbuilt {tag} in {seconds:.0f}s, {size / 1e6:.0f} MB", file=sys.stderr)
    return tag
