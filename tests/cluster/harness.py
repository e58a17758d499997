"""A Spark standalone cluster made of containers of our image, on the host network, and a driver to submit to it.

Everything here talks to real processes: `docker` (the engine from tests/infra/docker_fixtures.py), the Spark
master's and workers' JSON pages, the driver's REST API (/api/v1) and S3 (boto3).
"""

from __future__ import annotations

import io
import os
import json
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from infra.net import free_port, http_get, wait_for, wait_until

# Which containers belong to one cluster (removed together at teardown, pass or fail).
CLUSTER_LABEL = "org.fruit-pipeline.cluster"
JARS_IN_IMAGE = "/opt/s3a-jars"


def get_json(url: str, timeout: float = 5) -> Any:
    return json.loads(http_get(url, timeout=timeout))


@dataclass
class Node:
    """One master or worker container: its name and ports (host network, so ports must be distinct)."""

    name: str
    port: int
    ui_port: int

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"


@dataclass
class DriverRun:
    """A `fruit-pipeline run` driver container, attached (`docker run` exits with the driver's status)."""

    name: str
    proc: subprocess.Popen
    log: Path
    ui: str

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def application_id(self) -> str | None:
        """The application id the driver's REST API reports (None until its UI answers)."""
        try:
            apps = get_json(f"{self.ui}/api/v1/applications", timeout=2)
        except (OSError, ValueError):
            return None
        return apps[0]["id"] if apps else None

    def api(self, path: str) -> Any:
        return get_json(f"{self.ui}/api/v1/applications/{self.application_id()}/{path}", timeout=5)

    def completed_tasks(self) -> int:
        """Tasks completed so far over all stage attempts, as the manifest counts them (0 while the UI is not up)."""
        try:
            return sum(int(s.get("numCompleteTasks", 0)) for s in self.api("stages"))
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def busy_executors(self) -> list[str]:
        """Ids of executors running a task right now."""
        try:
            return [e["id"] for e in self.api("executors") if e["id"] != "driver" and e.get("activeTasks", 0) > 0]
        except (OSError, ValueError, KeyError, TypeError):
            return []


@dataclass
class SparkCluster:
    """Master + workers as containers of `image`; `docker` runs the engine's client with its environment."""

    engine: Any
    image: str
    workdir: Path
    s3_env: dict[str, str]
    extra_conf: dict[str, str] = field(default_factory=dict)
    mounts: list[str] = field(default_factory=list)
    suffix: str = field(default_factory=lambda: secrets.token_hex(3))
    master: Node | None = None
    workers: dict[str, Node] = field(default_factory=dict)
    driver_ui_port: int = field(default_factory=free_port)
    _drivers: int = 0

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master.port}"

    def _name(self, role: str) -> str:
        return f"fp-cluster-{self.suffix}-{role}"

    def _env_args(self, env: dict[str, str]) -> list[str]:
        """`-e NAME` only: values travel in the docker client's environment, never on a command line."""
        return [arg for name in env for arg in ("-e", name)]

    def _docker_env(self, env: dict[str, str]) -> dict[str, str]:
        return {**self.engine.env, **env}

    def _docker_run(self, name: str, env: dict[str, str], *command: str, detach: bool = True) -> list[str]:
        """argv of `docker run` on the host network, labelled for this cluster and the docker fixtures' session."""
        return [self.engine.docker, "run", *(["-d"] if detach else []), "--name", name, "--network", "host",
                "--label", _session_label(self.engine), "--label", f"{CLUSTER_LABEL}={self.suffix}",
                *self._env_args(env), *self.mounts, self.image, *command]

    def _run_detached(self, name: str, env: dict[str, str], *command: str) -> None:
        done = subprocess.run(self._docker_run(name, env, *command), env=self._docker_env(env), capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"docker run {name} failed: {done.stderr.strip()[-500:]}")

    def start_master(self) -> Node:
        node = Node(self._name("master"), free_port(), free_port())
        env = {"SPARK_LOCAL_IP": "127.0.0.1"}
        self._run_detached(node.name, env, "spark-class", "org.apache.spark.deploy.master.Master",
                           "--host", "127.0.0.1", "--port", str(node.port), "--webui-port", str(node.ui_port))
        self.master = node
        wait_until(lambda: get_json(f"{node.ui}/json/"), 180, interval=1, alive=lambda: self.running(node.name))
        return node

    def start_worker(self, role: str) -> Node:
        """A worker with 1 core and 1 GiB; it carries the S3 credentials its executors inherit (like a node role)."""
        node = Node(self._name(role), free_port(), free_port())
        env = {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": "/tmp/spark-worker", **self.s3_env}
        self._run_detached(node.name, env, "spark-class", "org.apache.spark.deploy.worker.Worker", self.master_url,
                           "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                           "--port", str(node.port), "--webui-port", str(node.ui_port))
        self.workers[role] = node
        return node

    def alive_workers(self) -> set[int]:
        """Ports of the workers the master lists as ALIVE."""
        state = get_json(f"{self.master.ui}/json/")
        return {w["port"] for w in state["workers"] if w["state"] == "ALIVE"}

    def wait_for_workers(self, seconds: float = 240) -> None:
        want = {w.port for w in self.workers.values() if self.running(w.name)}

        wait_for(lambda: not want - self.alive_workers(), f"workers on ports {sorted(want)} to register with the master",
                 seconds, interval=1)

    def ensure_workers(self, count: int) -> None:
        """Replace dead workers with fresh ones on new ports (a replacement node), until `count` are registered."""
        alive = [w for w in self.workers.values() if self.running(w.name)]
        for i in range(count - len(alive)):
            self.start_worker(f"worker-{len(self.workers) + 1}")
        self.wait_for_workers()

    def wait_until_idle(self, seconds: float = 120) -> None:
        """Until the master runs no application (a killed driver's executors are gone)."""
        wait_for(lambda: not get_json(f"{self.master.ui}/json/").get("activeapps"),
                 "the master to run no application", seconds, interval=1)

    def running(self, name: str) -> bool:
        out = self.engine.run("inspect", "-f", "{{.State.Running}}", name, check=False)
        return out.stdout.strip() == "true"

    def kill(self, name: str) -> None:
        """SIGKILL the container, like a reclaimed spot node (no graceful decommission)."""
        self.engine.run("kill", name)

    def _signal_executor_jvm(self, worker: str, signal: str) -> None:
        """Send SIGSTOP/SIGCONT to the executor JVM inside the worker container (found by its main class)."""
        script = ('for p in /proc/[0-9]*; do case "$(readlink "$p/exe")" in */java) ;; *) continue ;; esac; '
                  'tr "\\0" " " <"$p/cmdline" | grep -q CoarseGrainedExecutorBackend '
                  f'&& kill -{signal} "${{p#/proc/}}"; done; true')
        self.engine.run("exec", worker, "bash", "-c", script, timeout=60)

    def kill_worker_mid_task(self, run: "DriverRun", attempts: int = 30, settle: float = 1.5) -> tuple[str, str]:
        """Kill a worker while its executor holds a running task, so that task is lost and must be retried.

        The executor JVM is stopped first (SIGSTOP); if after `settle` seconds the driver still counts a running task
        on it, that task cannot finish any more and `docker kill` (SIGKILL to the whole container) follows;
        otherwise the JVM is continued and another moment is tried. Returns (worker container, executor id)."""
        app = run.application_id()
        for _ in range(attempts):
            for executor in run.busy_executors():
                worker = self.worker_hosting(executor, app)
                if worker is None:
                    continue
                self._signal_executor_jvm(worker, "STOP")
                time.sleep(settle)
                if executor in run.busy_executors():
                    self.kill(worker)
                    return worker, executor
                self._signal_executor_jvm(worker, "CONT")
            if run.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError("found no moment when an executor held a running task")

    def worker_hosting(self, executor_id: str, app_id: str) -> str | None:
        """Name of the worker container whose JSON page lists this application's executor."""
        for node in self.workers.values():
            try:
                state = get_json(f"{node.ui}/json/", timeout=2)
            except (OSError, ValueError):
                continue
            if any(str(e["id"]) == executor_id and e.get("appid") == app_id for e in state.get("executors", [])):
                return node.name
        return None

    def submit(self, *job_args: str) -> DriverRun:
        """Start `fruit-pipeline run JOB_ARGS` in a driver container against the master (client mode)."""
        self._drivers += 1
        name = self._name(f"driver-{self._drivers}")
        log = self.workdir / f"{name}.log"
        conf = {"spark.ui.port": str(self.driver_ui_port), **self.extra_conf}
        # -v: Spark's own log (executor failures included) goes to the driver's output, kept in `log`.
        argv = self._docker_run(name, self.s3_env, "fruit-pipeline", "-v", "run", "--master", self.master_url, *job_args,
                                *(arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")),
                                detach=False)
        out = log.open("wb")
        proc = subprocess.Popen(argv, env=self._docker_env(self.s3_env), stdout=out, stderr=subprocess.STDOUT)
        out.close()
        return DriverRun(name, proc, log, f"http://127.0.0.1:{self.driver_ui_port}")

    def containers(self) -> list[str]:
        out = self.engine.run("ps", "-aq", "--filter", f"label={CLUSTER_LABEL}={self.suffix}", check=False)
        return out.stdout.split()

    def save_logs(self) -> None:
        """Keep the master's and workers' logs in the work directory (drivers' output is there already)."""
        names = self.engine.run("ps", "-a", "--filter", f"label={CLUSTER_LABEL}={self.suffix}",
                                "--format", "{{.Names}}", check=False).stdout.split()
        for name in (n for n in names if "-driver-" not in n):
            logs = self.engine.run("logs", name, check=False)
            (self.workdir / f"{name}.container.log").write_text(logs.stdout + logs.stderr)

    def teardown(self) -> list[str]:
        """Remove every container of this cluster (running or not); returns what is left (should be nothing)."""
        ids = self.containers()
        if ids:
            self.engine.run("rm", "-f", "-v", *ids, check=False)
        return self.containers()


def _session_label(engine: Any) -> str:
    """The docker fixtures' per-session label, so the session teardown removes our containers too."""
    from infra.docker_fixtures import docker_build

    return f"{docker_build.LABEL}={engine.session}"


BUCKET = "cluster"
BANK_MARKER = "/bank/"
RUN_TIMEOUT = 900


def job_args(output: str) -> list[str]:
    """The cluster runs' command line after `--master`: s3a in and out (endpoint and keys from the environment),
    extraction + write + report; visual words/PCA are left out to keep five runs on 2 cores short."""
    return ["--input", f"s3a://{BUCKET}/bank", "--output", output, "--no-reduction", "--no-evaluation"]


@dataclass
class RunOutput:
    """What a finished run left: canonical rows of features and errors, its manifest, log and timing."""

    features: list[tuple]
    errors: list[tuple]
    manifest: dict[str, Any]
    log: str
    started: float
    ended: float


def kill_fraction(name: str, default: float) -> float:
    value = float(os.environ.get(name, default))
    if not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {value}")
    return value



def finished_run(run: DriverRun, s3_server, output_prefix: str, started: float) -> RunOutput:
    """Wait for a driver that must succeed and read back what it wrote."""
    code = run.wait(RUN_TIMEOUT)
    ended = time.time()
    log = run.output()
    assert code == 0, f"driver exited {code}:\n{log[-4000:]}"
    client = s3_server.client()
    manifest = read_manifest(client, BUCKET, f"{output_prefix}/manifest.json")
    assert manifest is not None, f"no manifest.json under {output_prefix}"
    return RunOutput(canonical_rows(read_dataset(client, BUCKET, f"{output_prefix}/features/"), BANK_MARKER),
                     canonical_rows(read_dataset(client, BUCKET, f"{output_prefix}/errors/"), BANK_MARKER),
                     manifest, log, started, ended)



# --- S3 outputs ------------------------------------------------------------------------------------------------

def list_keys(client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [obj["Key"] for obj in page.get("Contents", [])]
    return keys


def readable_parquet(keys: list[str], prefix: str) -> list[str]:
    """Parquet objects a reader (Spark, pyarrow) would load: hidden `_`/`.` path parts such as __magic skipped."""
    out = []
    for key in keys:
        rel = key[len(prefix):].strip("/")
        if rel.endswith(".parquet") and not any(part.startswith(("_", ".")) for part in rel.split("/")):
            out.append(key)
    return out


def read_dataset(client, bucket: str, prefix: str) -> pd.DataFrame:
    """The Parquet dataset under s3://bucket/prefix as one frame, hive partition folders as columns."""
    frames = []
    for key in readable_parquet(list_keys(client, bucket, prefix), prefix):
        frame = pd.read_parquet(io.BytesIO(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
        for part in key[len(prefix):].strip("/").split("/")[:-1]:
            if "=" in part:
                name, value = part.split("=", 1)
                frame[name] = value
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def canonical_rows(frame: pd.DataFrame, bank_marker: str) -> list[tuple]:
    """Rows with `path` made relative to the bank (file:/.../bank/X vs s3a://b/bank/X), all columns but the source's
    modification time (a file's mtime on disk and its S3 object's Last-Modified differ), sorted."""
    frame = frame.drop(columns=["source_mtime"], errors="ignore")
    frame["path"] = frame["path"].astype(str).str.split(bank_marker, n=1).str[-1]
    columns = sorted(frame.columns)
    rows = [tuple(repr(v.tolist() if hasattr(v, "tolist") else v) for v in row)
            for row in frame[columns].itertuples(index=False)]
    return sorted(rows)


def read_manifest(client, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except client.exceptions.NoSuchKey:
        return None


def prometheus_values(url: str, expr: str, at: float) -> dict[str, float]:
    """Instant query at time `at`: {executor_id or job label: value}."""
    try:
        body = http_get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"}))
    except urllib.error.URLError as exc:
        raise AssertionError(f"Prometheus query failed: {exc}") from exc
    result = json.loads(body)["data"]["result"]
    return {r["metric"].get("executor_id", r["metric"].get("job", "")): float(r["value"][1]) for r in result}
