#!/usr/bin/env python3
"""Build the fruit-pipeline image: find (or start) a Docker engine, seed the base image, build with the CA secret.

Shared by `image/build.sh` (`make image`) and the test fixtures (tests/infra/docker_fixtures.py); stdlib only.

- Engine: the one `docker info` reaches (DOCKER_HOST or the default socket); otherwise a private `dockerd`
  (host networking only: --iptables=false --bridge=none) whose data, exec root, pidfile and socket live in a
  state directory, by default <repo>/.cache/docker.
- Base image: when `debian:bookworm-slim` is neither present nor pullable (no registry reachable), it is made
  with `debootstrap --variant=minbase bookworm` + `docker import`.
- Build: BuildKit, `--network host`, and the host CA bundle as the optional secret `cabundle` (only mounted in
  the build steps that download; never copied into a layer).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = "/usr/bin/docker"  # Debian docker.io: the client matching the engine (a newer one may come first on PATH)
DEFAULT_BASE = "debian:bookworm-slim"
DEFAULT_TAG = "fruit-pipeline:dev"
DEFAULT_STATE = ROOT / ".cache" / "docker"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
LABEL = "org.fruit-pipeline.session"


class EngineError(RuntimeError):
    """The engine could not be reached, started, seeded or could not build (message is one line)."""


@dataclass
class DockerEngine:
    """A reachable engine. `env` carries DOCKER_HOST for a private engine; pass it to every docker subprocess."""

    docker: str = DOCKER
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    private: subprocess.Popen | None = None
    state: Path | None = None
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def run(self, *args: str, check: bool = True, timeout: float = 600,
            input: str | None = None) -> subprocess.CompletedProcess:
        """`docker ARGS` with text output captured; containers it creates carry this session's label."""
        argv = list(args)
        if argv and argv[0] in ("run", "create"):
            argv[1:1] = ["--label", f"{LABEL}={self.session}"]
        out = subprocess.run([self.docker, *argv], env=self.env, capture_output=True, text=True,
                             timeout=timeout, input=input)
        if check and out.returncode != 0:
            raise EngineError(f"docker {' '.join(args[:2])} failed ({out.returncode}): {_last_line(out.stderr)}")
        return out

    def answers(self) -> bool:
        try:
            return self.run("info", "--format", "{{.ServerVersion}}", check=False, timeout=20).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def remove_session_containers(self) -> list[str]:
        """Force-remove every container this session created (running or not); returns their ids."""
        ids = self.run("ps", "-aq", "--filter", f"label={LABEL}={self.session}", check=False).stdout.split()
        if ids:
            self.run("rm", "-f", "-v", *ids, check=False)
        return ids

    def stop(self) -> None:
        """Remove this session's containers; stop the private engine if we started one."""
        self.remove_session_containers()
        if self.private is None:
            return
        if self.private.poll() is None:
            self.private.terminate()
            try:
                self.private.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.private.kill()
                self.private.wait(timeout=10)
        self.private = None
        self._unmount_namespaces()

    def _unmount_namespaces(self) -> None:
        """dockerd leaves its network-namespace bind mounts (exec/netns/*) behind; without this the checkout's
        .cache cannot be deleted ("Device or resource busy")."""
        netns = self.state / "exec" / "netns" if self.state else None
        for mount_point in sorted(netns.iterdir()) if netns and netns.is_dir() else []:
            subprocess.run(["umount", str(mount_point)], capture_output=True, check=False)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def connect(state: Path = DEFAULT_STATE, docker: str = DOCKER, force_private: bool = False) -> DockerEngine:
    """The engine `docker info` reaches, else a private dockerd started under `state`."""
    if not Path(docker).exists():
        raise EngineError(f"{docker} not found (Debian package docker.io)")
    if not force_private:
        engine = DockerEngine(docker=docker)
        if engine.answers():
            return engine
    return start_private(state, docker)


def start_private(state: Path, docker: str = DOCKER, wait: float = 90) -> DockerEngine:
    """Start dockerd with its data root, exec root, pidfile and unix socket under `state` (host networking)."""
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not Path(dockerd).exists():
        raise EngineError("dockerd not found (Debian package docker.io)")
    if os.geteuid() != 0:
        raise EngineError("no Docker engine answers and starting one needs root")
    state.mkdir(parents=True, exist_ok=True)
    socket = state / "docker.sock"
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}"}
    engine = DockerEngine(docker=docker, env=env, state=state)
    if engine.answers():  # left over from an interrupted run: reuse it, it is ours
        return engine
    stale_pid(state / "docker.pid")
    log = (state / "dockerd.log").open("ab")
    cmd = [dockerd, "--data-root", str(state / "data"), "--exec-root", str(state / "exec"),
           "--pidfile", str(state / "docker.pid"), "--host", f"unix://{socket}",
           "--iptables=false", "--ip-masq=false", "--bridge=none",
           "--containerd-namespace", "fruit-pipeline", "--containerd-plugins-namespace", "fruit-pipeline-plugins"]
    engine.private = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if engine.private.poll() is not None:
            raise EngineError(f"dockerd exited ({engine.private.returncode}); see {state / 'dockerd.log'}")
        if engine.answers():
            return engine
        time.sleep(0.5)
    engine.stop()
    raise EngineError(f"dockerd did not answer within {wait:.0f}s; see {state / 'dockerd.log'}")


def stale_pid(pidfile: Path) -> None:
    """Remove a pidfile whose process is gone (dockerd refuses to start otherwise)."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pidfile.unlink(missing_ok=True)


def ensure_base(engine: DockerEngine, base: str = DEFAULT_BASE, log: Path | None = None) -> str:
    """Make sure `base` exists: present, else pulled, else (bookworm-slim only) seeded with debootstrap."""
    if engine.run("image", "inspect", base, check=False).returncode == 0:
        return "present"
    try:
        if engine.run("pull", base, check=False, timeout=120).returncode == 0:
            return "pulled"
    except subprocess.TimeoutExpired:
        pass
    if base != DEFAULT_BASE:
        raise EngineError(f"base image {base} is not present and cannot be pulled")
    seed_bookworm(engine, base, log)
    return "seeded"


def seed_bookworm(engine: DockerEngine, tag: str = DEFAULT_BASE, log: Path | None = None) -> None:
    """debootstrap a minimal bookworm and import it as `tag` (~120 MB)."""
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise EngineError("debootstrap not found (Debian package debootstrap)")
    with tempfile.TemporaryDirectory(prefix="bookworm-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        with open(log or os.devnull, "ab") as out:
            done = subprocess.run([debootstrap, "--variant=minbase", "bookworm", str(rootfs), DEBIAN_MIRROR],
                                  stdout=out, stderr=subprocess.STDOUT, timeout=900)
        if done.returncode != 0:
            raise EngineError(f"debootstrap failed ({done.returncode}){f'; see {log}' if log else ''}")
        for junk in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for path in (rootfs / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run([engine.docker, "import", "-", tag], stdin=tar.stdout, env=engine.env,
                                  capture_output=True, text=True, timeout=600)
        tar.stdout.close()
        tar.wait()
        if imported.returncode != 0:
            raise EngineError(f"docker import of the bookworm rootfs failed: {_last_line(imported.stderr)}")


def build_command(engine: DockerEngine, tag: str, base: str, ca_bundle: Path | None,
                  context: Path = ROOT, extra: tuple[str, ...] = ()) -> list[str]:
    """The `docker build` argv: BuildKit, host network, optional CA secret, base image override."""
    cmd = [engine.docker, "build", "--network", "host", "--progress", "plain",
           "--build-arg", f"BASE_IMAGE={base}", "-t", tag]
    if ca_bundle is not None and ca_bundle.is_file() and ca_bundle.stat().st_size > 0:
        cmd += ["--secret", f"id=cabundle,src={ca_bundle}"]
    return [*cmd, *extra, str(context)]


def build(engine: DockerEngine, tag: str = DEFAULT_TAG, base: str = DEFAULT_BASE,
          ca_bundle: Path | None = HOST_CA, log: Path = ROOT / ".cache" / "image-build.log", context: Path = ROOT,
          extra: tuple[str, ...] = (), timeout: float = 1800) -> float:
    """Build the image, streaming BuildKit's plain progress to `log`; returns the build time in seconds."""
    cmd = build_command(engine, tag, base, ca_bundle, context, extra)
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(cmd, env={**engine.env, "DOCKER_BUILDKIT": "1"}, stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout)
    if done.returncode != 0:
        raise EngineError(f"docker build failed: {_failure_line(log.read_text())}; full log: {log}")
    return time.monotonic() - start


def _failure_line(text: str) -> str:
    """BuildKit's `failed to solve`, `ERROR:` or `error:` line is the reason; otherwise the last line."""
    for line in reversed(text.splitlines()):
        if "failed to solve" in line:
            return line.strip()
    for line in reversed(text.splitlines()):
        if "ERROR" in line or line.lower().startswith("error"):
            return line.strip()
    return _last_line(text)


def image_size(engine: DockerEngine, tag: str) -> int:
    return int(engine.run("image", "inspect", "-f", "{{.Size}}", tag).stdout.strip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="image/build.sh", description="Build the fruit-pipeline image "
                                "(starts a private dockerd under --state if no engine answers and leaves it running).")
    p.add_argument("--tag", default=os.environ.get("IMAGE_TAG", DEFAULT_TAG), help=f"image tag (default {DEFAULT_TAG})")
    p.add_argument("--base", default=os.environ.get("BASE_IMAGE", DEFAULT_BASE),
                   help="base image, may be digest-pinned (default debian:bookworm-slim)")
    p.add_argument("--ca-bundle", default=os.environ.get("CA_BUNDLE", str(HOST_CA)),
                   help="extra CA certificates for the build steps only (BuildKit secret; '' for none)")
    p.add_argument("--state", default=str(DEFAULT_STATE), help="private engine state directory")
    args = p.parse_args(argv)
    try:
        engine = connect(Path(args.state))
        if engine.private is not None:
            print(f"started a private dockerd; use it with: export DOCKER_HOST={engine.env['DOCKER_HOST']}")
        print(f"base image {args.base}: {ensure_base(engine, args.base, Path(args.state) / 'debootstrap.log')}")
        log = ROOT / ".cache" / "image-build.log"
        print(f"building {args.tag} (progress: {log})", flush=True)
        seconds = build(engine, args.tag, args.base, Path(args.ca_bundle) if args.ca_bundle else None, log=log)
    except (EngineError, subprocess.TimeoutExpired) as exc:
        print(f"image build failed: {exc}", file=sys.stderr)
        return 1
    print(f"built {args.tag} in {seconds:.0f}s, {image_size(engine, args.tag) / 1e6:.0f} MB (log: {log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
