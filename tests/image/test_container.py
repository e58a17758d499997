"""The image built this session (tests/infra/docker_fixtures.py), run for real on a real engine.

The job in the container must give the local run's output; the `driver` entrypoint must run it the way Spark on
Kubernetes / spark-operator starts a driver pod (properties file, client deploy mode), as UID 185 and as an
arbitrary UID; the `executor` entrypoint must assemble Spark's executor backend command.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import run_cli

# The first test to use `pipeline_image` builds the image (from scratch on a clean engine: minutes).
pytestmark = [pytest.mark.docker, pytest.mark.timeout(2400)]

BANK = "/data/bank"
OUT = "/data/out"
NON_ASCII_LABEL = "Pomme rôtie é"


def _shareable(path: Path, mode: int) -> Path:
    """pytest's tmp dirs are 0700 root; the container user (185 or arbitrary) must read/write them."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


@pytest.fixture(scope="module")
def bank(small_bank: Path, tmp_path_factory) -> Path:
    """The shared small bank plus one class with a non-ASCII, spaced label (exercises the image's locale)."""
    root = tmp_path_factory.mktemp("image-bank")
    shutil.copytree(small_bank, root, dirs_exist_ok=True)
    for split in ("Training", "Test"):
        classes = sorted(p for p in (root / split).iterdir() if p.is_dir())
        classes[0].rename(root / split / NON_ASCII_LABEL)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return root


def _features(out: Path) -> list[dict]:
    """Feature rows keyed by the path below the bank root (Split/Label/name), the columns compared."""
    rows = []
    for row in pq.read_table(out / "features").to_pylist():
        rows.append({"path": "/".join(row["path"].split("/")[-3:]), "label": row["label"], "split": row["split"],
                     "n_keypoints": row["n_keypoints"], "descriptors": row["descriptors"],
                     "colour_hist": row["colour_hist"]})
    return sorted(rows, key=lambda r: r["path"])


def _counts(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())["counts"]


@pytest.fixture(scope="module")
def local_out(bank: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local-out") / "out"
    done = run_cli("run", "--input", str(bank), "--output", str(out), "--master", "local[2]", "--no-metrics",
                   timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _run(docker_engine, image: str, *args: str, user: str | None = None, mounts: dict[Path, str] = {},
         env: dict[str, str] = {}, env_file: Path | None = None, timeout: float = 1800):
    """`docker run --rm --network host ...`; the timeout only guards against hangs (on the shared 2-core dev
    machine under load the full job in the container took 11 minutes)."""
    argv = ["run", "--rm", "--network", "host"]
    if user:
        argv += ["--user", user]
    if env_file:  # secrets go through a file, not the docker command line
        argv += ["--env-file", str(env_file)]
    for host, target in mounts.items():
        argv += ["-v", f"{host}:{target}"]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    return docker_engine.run(*argv, image, *args, check=False, timeout=timeout)


def test_help(docker_engine, pipeline_image):
    done = _run(docker_engine, pipeline_image, "fruit-pipeline", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("run", "transform", "sample", "upload"):
        assert command in done.stdout
    default = _run(docker_engine, pipeline_image)
    assert default.returncode == 0 and default.stdout == done.stdout


def test_job_in_container_equals_local_run(docker_engine, pipeline_image, bank, local_out, tmp_path):
    out = _shareable(tmp_path / "out", 0o777)
    done = _run(docker_engine, pipeline_image, "fruit-pipeline", "run", "--input", BANK, "--output", f"{OUT}/job",
                "--master", "local[2]", "--no-metrics", mounts={bank: f"{BANK}:ro", out: OUT})
    assert done.returncode == 0, done.stderr[-3000:]
    container_out = out / "job"
    assert _counts(container_out) == _counts(local_out)
    assert _counts(container_out)["input_files"] == sum(1 for p in bank.rglob("*.jpg"))
    ours, theirs = _features(container_out), _features(local_out)
    assert [r["path"] for r in ours] == [r["path"] for r in theirs]
    assert NON_ASCII_LABEL in {r["label"] for r in ours}
    for mine, local in zip(ours, theirs):
        assert (mine["label"], mine["split"], mine["n_keypoints"]) == (local["label"], local["split"],
                                                                       local["n_keypoints"]), mine["path"]
        assert mine["descriptors"] == local["descriptors"], mine["path"]
        assert all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
                   for a, b in zip(mine["colour_hist"], local["colour_hist"], strict=True)), mine["path"]
    assert (container_out / "report" / "index.html").is_file()


def _properties(path: Path, image: str) -> Path:
    """A driver properties file shaped like the one Spark's Kubernetes submission (spark-operator) mounts."""
    path.write_text("\n".join([
        "spark.master=local[2]",
        "spark.app.name=fruit-pipeline-image-test",
        "spark.submit.deployMode=cluster",
        "spark.kubernetes.submitInDriver=true",
        "spark.kubernetes.namespace=default",
        "spark.kubernetes.driver.pod.name=fruit-pipeline-image-test-driver",
        f"spark.kubernetes.container.image={image}",
        "spark.kubernetes.resource.type=python",
        "spark.executor.instances=1",
        "spark.driver.memory=1g",
        "spark.ui.enabled=false",
        "",
    ]))
    os.chmod(path, 0o644)
    return path


@pytest.mark.parametrize("user", ["185", "12345:0"], ids=["uid-185", "arbitrary-uid"])
def test_driver_entrypoint_runs_the_job(docker_engine, pipeline_image, bank, local_out, tmp_path, user):
    conf = _shareable(tmp_path / "conf", 0o755)
    _properties(conf / "spark.properties", pipeline_image)
    out = _shareable(tmp_path / "out", 0o777)
    done = _run(docker_engine, pipeline_image,
                "driver", "--properties-file", "/opt/spark/conf/spark.properties",
                "--class", "org.apache.spark.deploy.PythonRunner", "local:///opt/fruit-pipeline/run_job.py",
                "run", "--input", BANK, "--output", f"{OUT}/job", "--profile", "kubernetes", "--no-metrics",
                "--no-reduction",  # the full job in the image is proven above; this proves the driver path
                user=user, mounts={bank: f"{BANK}:ro", out: OUT, conf: "/opt/spark/conf"},
                env={"SPARK_DRIVER_BIND_ADDRESS": "127.0.0.1", "SPARK_CONF_DIR": "/opt/spark/conf"})
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "job" / "manifest.json").read_text())
    assert manifest["counts"] == _counts(local_out)
    assert manifest["counts"]["error_rows"] == 0
    assert manifest["spark"]["master"] == "local[2]", "the properties file's master was not used"
    assert (out / "job" / "report" / "index.html").is_file()  # matplotlib under this UID's HOME


def test_driver_without_bind_address_fails_in_one_line(docker_engine, pipeline_image):
    done = _run(docker_engine, pipeline_image, "driver", "--class", "x", "local:///opt/fruit-pipeline/run_job.py")
    assert done.returncode != 0
    assert "SPARK_DRIVER_BIND_ADDRESS" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_executor_entrypoint_assembles_the_backend_command(docker_engine, pipeline_image, tmp_path):
    fake = _shareable(tmp_path / "fake-java" / "bin", 0o755)
    (fake / "java").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\nprintf "HOME=%s USER=%s\\n" "$HOME" "$(id -un)"\n')
    os.chmod(fake / "java", 0o755)
    os.chmod(fake.parent, 0o755)
    env = {"JAVA_HOME": "/fake-java", "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@10.0.0.5:7078",
           "SPARK_EXECUTOR_ID": "3", "SPARK_EXECUTOR_CORES": "2", "SPARK_EXECUTOR_MEMORY": "1024m",
           "SPARK_APPLICATION_ID": "spark-abc", "SPARK_EXECUTOR_POD_IP": "10.0.0.9",
           "SPARK_EXECUTOR_POD_NAME": "job-exec-3", "SPARK_RESOURCE_PROFILE_ID": "0",
           "SPARK_CONF_DIR": "/opt/spark/conf", "SPARK_JAVA_OPT_0": "-Dfirst=0", "SPARK_JAVA_OPT_1": "-Dsecond=1",
           "SPARK_JAVA_OPT_10": "-Dtenth=10", "SPARK_JAVA_OPT_2": "-Dspaced=a b"}
    done = _run(docker_engine, pipeline_image, "executor", user="4242:0", mounts={fake.parent: "/fake-java:ro"},
                env=env)
    assert done.returncode == 0, done.stderr
    args = done.stdout.splitlines()
    assert args[:4] == ["-Dfirst=0", "-Dsecond=1", "-Dspaced=a b", "-Dtenth=10"]
    assert args[4:6] == ["-Xms1024m", "-Xmx1024m"]
    assert args[6] == "-cp"
    classpath = args[7].split(":")
    assert classpath[0] == "/opt/spark/conf" and "/opt/spark/jars/*" in classpath
    backend = args[8:23]
    assert backend == ["org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
                       "--driver-url", env["SPARK_DRIVER_URL"], "--executor-id", "3", "--cores", "2",
                       "--app-id", "spark-abc", "--hostname", "10.0.0.9", "--resourceProfileId", "0",
                       "--podName", "job-exec-3"]
    # The arbitrary UID got a passwd entry (nss_wrapper) and a writable HOME.
    assert args[-1] == "HOME=/home/spark USER=spark"


def test_executor_without_driver_url_fails_in_one_line(docker_engine, pipeline_image):
    done = _run(docker_engine, pipeline_image, "executor")
    assert done.returncode != 0
    assert "SPARK_DRIVER_URL is not set" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_other_commands_pass_through(docker_engine, pipeline_image):
    done = _run(docker_engine, pipeline_image, "python", "-c", "import sys; print(sys.argv[1:])", "a b", "c",
                user="12345:12345")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a b', 'c']"


def test_driver_reads_and_writes_s3a_with_the_baked_in_jars(docker_engine, pipeline_image, s3_server, small_bank,
                                                            tmp_path):
    """The S3A and Delta jars baked into $SPARK_HOME/jars work (a real SeaweedFS on the host network)."""
    from fruit_pipeline.cloud.s3_upload import upload

    client = s3_server.client()
    client.create_bucket(Bucket="image-runs")
    upload(small_bank, "s3a://image-runs/bank", client=client)
    conf = _shareable(tmp_path / "conf", 0o755)
    _properties(conf / "spark.properties", pipeline_image)
    env_file = tmp_path / "s3.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in s3_server.env().items()))
    env_file.chmod(0o600)
    done = _run(docker_engine, pipeline_image,
                "driver", "--properties-file", "/opt/spark/conf/spark.properties",
                "--class", "org.apache.spark.deploy.PythonRunner", "local:///opt/fruit-pipeline/run_job.py",
                "run", "--input", "s3a://image-runs/bank", "--output", "s3a://image-runs/out", "--profile",
                "kubernetes", "--no-metrics", "--no-reduction", "--conf", "spark.hadoop.fs.s3a.path.style.access=true",
                mounts={conf: "/opt/spark/conf"}, env_file=env_file,
                env={"SPARK_DRIVER_BIND_ADDRESS": "127.0.0.1", "SPARK_CONF_DIR": "/opt/spark/conf"})
    assert done.returncode == 0, done.stderr[-3000:]
    images = sum(1 for _ in small_bank.rglob("*.jpg"))
    manifest = json.loads(client.get_object(Bucket="image-runs", Key="out/manifest.json")["Body"].read())
    assert manifest["counts"] == {"input_files": images, "features_rows": images, "error_rows": 0}
    # the Delta jars baked in beside the S3A ones: the features are a Delta table whose first commit added its files
    log = client.get_object(Bucket="image-runs", Key="out/features/_delta_log/00000000000000000000.json")["Body"]
    actions = [json.loads(line) for line in log.read().splitlines()]
    assert actions[0]["commitInfo"]["operation"] == "WRITE" and sum("add" in a for a in actions) >= 1
    assert s3_server.secret_key not in done.stdout + done.stderr + json.dumps(manifest)
