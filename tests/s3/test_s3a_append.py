"""`run --mode append` on s3a:// against SeaweedFS (issue 19, acceptance 1, 2 and 4 on S3): only B is extracted and
the table equals the local-disk append of the same banks; a changed object is replaced, a deleted one reported then
pruned; a second append at once is refused with one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fruit_pipeline.cloud.s3_upload import upload
from fruit_pipeline.sample_bank import BankSpec, write_bank
from fruit_pipeline.stages.s3_conf import locked_jars
from spark.helpers import run
from spark.table_helpers import add_files, split_bank, table_rows

pytestmark = pytest.mark.spark

SMALL_FLAGS = ["--vocabulary-size", "8", "--pca-components", "4", "--no-evaluation", "--master", "local[2]",
               "--no-metrics", "--no-event-log"]
SMALL = {"reduction": {"vocabulary_size": 8, "pca_components": 4}, "evaluation": {"enabled": False}}


def _download(client, bucket: str, prefix: str, dest: Path) -> Path:
    """Every object below `prefix` (a whole Delta table: data files and log)."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):]
            if rel and not rel.endswith("/"):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, obj["Key"], str(dest / rel))
    return dest


def _comparable(rows: list[dict]) -> list[dict]:
    """Rows with the bank's location reduced to Split/Label/name and no modification time (disk vs S3 clocks)."""
    out = [{**{k: v for k, v in r.items() if k != "source_mtime"}, "path": "/".join(r["path"].split("/")[-3:])}
           for r in rows]
    return sorted(out, key=lambda r: r["path"])


def _bank_a_on_s3(s3_server, tmp_path: Path, bucket: str, spec: BankSpec, every: int):
    """Bank A+B written locally, A uploaded to s3a://BUCKET/bank; returns (client, s3 TOML, A, B, B's names)."""
    from tests.conftest import require

    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "make jars")
    write_bank(spec, workers=1)
    a, b, rels = split_bank(spec.out, tmp_path / "a", tmp_path / "b", every=every)
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    upload(a, f"s3a://{bucket}/bank", client=client)
    toml = tmp_path / "s3.toml"
    toml.write_text("[s3]\npath_style = true\n")
    return client, toml, a, b, rels


def _manifest(client) -> dict:
    return json.loads(client.get_object(Bucket="inc", Key="out/manifest.json")["Body"].read())


def test_s3a_append_matches_local_and_handles_changes(spark, s3_server, tmp_path: Path):
    from tests.conftest import run_cli

    client, toml, a, b, rels = _bank_a_on_s3(
        s3_server, tmp_path, "inc", BankSpec(tmp_path / "full", classes=3, per_class=8, test_fraction=0.25, seed=41), 4)
    env = s3_server.env()
    common = ["--input", "s3a://inc/bank", "--output", "s3a://inc/out", "--config", str(toml), *SMALL_FLAGS]
    first = run_cli("-q", "run", *common, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    upload(b, "s3a://inc/bank", client=client)
    appended = run_cli("-q", "run", *common, "--mode", "append", env=env)
    assert appended.returncode == 0, appended.stderr[-3000:]
    inc = _manifest(client)["increment"]
    assert (inc["new"], inc["changed"], inc["deleted"], inc["unchanged"], inc["extracted"]) == (6, 0, 0, 18, 6)
    # the same banks on local disk, run then appended in-process: the same rows and feature values
    local_bank = tmp_path / "bank"
    shutil.copytree(a, local_bank)
    run(spark, local_bank, tmp_path / "local", **SMALL)
    add_files(b, local_bank)
    run(spark, local_bank, tmp_path / "local", increment={"mode": "append"}, **SMALL)
    remote = _download(client, "inc", "out/features/", tmp_path / "remote" / "features")
    got = _comparable(table_rows(spark, remote.parent, "features"))
    want = _comparable(table_rows(spark, tmp_path / "local", "features"))
    differ = sorted({k for g, w in zip(got, want) for k in g if g[k] != w[k]})
    assert len(got) == len(want) == 24 and set(differ) <= {"features"}, differ
    # PCA fitted on the same rows read from another store: equal up to summation order
    assert all(np.allclose(g["features"], w["features"], rtol=0, atol=1e-12) for g, w in zip(got, want))

    # a changed object (other bytes) and a deleted one
    changed, source, gone = f"bank/{rels[0]}", f"bank/{rels[1]}", f"bank/{rels[2]}"
    client.copy_object(Bucket="inc", Key=changed, CopySource={"Bucket": "inc", "Key": source})
    client.delete_object(Bucket="inc", Key=gone)
    again = run_cli("run", *common, "--mode", "append", env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 file(s) in the tables are no longer in the bank (kept; --prune removes them)" in again.stderr
    inc = _manifest(client)["increment"]
    assert (inc["new"], inc["changed"], inc["deleted"], inc["extracted"], inc["pruned_rows"]) == (0, 1, 1, 1, 0)
    pruned = run_cli("-q", "run", *common, "--mode", "append", "--prune", env=env)
    assert pruned.returncode == 0, pruned.stderr[-3000:]
    m = _manifest(client)
    assert (m["increment"]["deleted"], m["increment"]["pruned_rows"]) == (1, 1) and m["counts"]["features_rows"] == 23
    shutil.rmtree(tmp_path / "remote")
    remote = _download(client, "inc", "out/features/", tmp_path / "remote" / "features")
    rows = {r["path"].split("inc/bank/")[-1]: r for r in table_rows(spark, remote.parent, "features")}
    assert len(rows) == 23 and rels[2] not in rows
    assert rows[rels[0]]["descriptors"] == rows[rels[1]]["descriptors"]  # the changed object was re-extracted
    assert rows[rels[0]]["file_bytes"] == client.head_object(Bucket="inc", Key=changed)["ContentLength"]


def test_s3a_second_append_at_once_is_refused(s3_server, tmp_path: Path):
    from tests.conftest import run_cli

    client, toml, _a, b, _rels = _bank_a_on_s3(
        s3_server, tmp_path, "busy", BankSpec(tmp_path / "full", classes=2, per_class=6, test_fraction=0.25, seed=43), 3)
    env = {**os.environ, **s3_server.env(), "FRUIT_PIPELINE_LOCK_LEASE_S": "4"}
    common = ["-q", "run", "--input", "s3a://busy/bank", "--output", "s3a://busy/out", "--config", str(toml),
              *SMALL_FLAGS]
    assert run_cli(*common, env=env).returncode == 0
    upload(b, "s3a://busy/bank", client=client)
    first = subprocess.Popen([sys.executable, "-m", "fruit_pipeline", *common, "--mode", "append", "--batch-files", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while "Contents" not in client.list_objects_v2(Bucket="busy", Prefix="out/.fruit-pipeline/lock"):
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()[-3000:]
        time.sleep(0.05)
    second = run_cli(*common, "--mode", "append", env=env)
    assert first.poll() is None
    assert second.returncode == 2, second.stderr
    (line,) = second.stderr.splitlines()
    assert line.startswith("fruit-pipeline: error: another fruit-pipeline run (run ") and "s3a://busy/out" in line
    assert first.wait(timeout=900) == 0, first.stderr.read()[-3000:]
    m = json.loads(client.get_object(Bucket="busy", Key="out/manifest.json")["Body"].read())
    assert m["increment"]["new"] == 4 and m["counts"]["features_rows"] == 12


def _copy_prefix(client, bucket: str, source: str, target: str) -> None:
    """Copy every object below `source` to the same place below `target` (a whole output: tables, models, log)."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=source):
        for obj in page.get("Contents", []):
            client.copy_object(Bucket=bucket, Key=target + obj["Key"][len(source):],
                               CopySource={"Bucket": bucket, "Key": obj["Key"]})


def _commits(client, bucket: str, table: str) -> int:
    """Commits in a Delta table's log (its `_delta_log/NNN.json` objects)."""
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{table}/_delta_log/")
    return sum(1 for obj in listed.get("Contents", []) if obj["Key"].endswith(".json"))


def test_s3a_killed_append_rerun_equals_an_uninterrupted_one(spark, s3_server, tmp_path: Path):
    """Acceptance 3 on S3: SIGKILL after the first of three batch commits, the same command again: the tables equal
    those of an uninterrupted append of the same bank, with no duplicates."""
    from tests.conftest import run_cli

    spec = BankSpec(tmp_path / "full", classes=3, per_class=8, test_fraction=0.25, seed=47)
    client, toml, _a, b, rels = _bank_a_on_s3(s3_server, tmp_path, "resume", spec, 4)
    env = {**os.environ, **s3_server.env(), "FRUIT_PIPELINE_LOCK_LEASE_S": "4"}

    def command(out: str) -> list[str]:
        return ["-q", "run", "--input", "s3a://resume/bank", "--output", f"s3a://resume/{out}", "--config", str(toml),
                *SMALL_FLAGS, "--mode", "append", "--batch-files", "2"]

    first = run_cli(*command("ref")[:-4], env=env)  # the overwrite run on A
    assert first.returncode == 0, first.stderr[-3000:]
    _copy_prefix(client, "resume", "ref/", "out/")
    upload(b, "s3a://resume/bank", client=client)
    ref = run_cli(*command("ref"), env=env)
    assert ref.returncode == 0, ref.stderr[-3000:]
    start = _commits(client, "resume", "out/features")
    proc = subprocess.Popen([sys.executable, "-m", "fruit_pipeline", *command("out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while _commits(client, "resume", "out/features") == start:
        assert proc.poll() is None, f"the run ended before a commit: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, "no batch committed after 300 s"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, its JVM and Python workers, at once
    assert proc.wait(timeout=60) == -signal.SIGKILL
    committed = _commits(client, "resume", "out/features") - start
    assert 1 <= committed < 3 and len(rels) == 6  # killed in the middle: some of the three batches committed
    again = run_cli(*command("out"), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    inc = json.loads(client.get_object(Bucket="resume", Key="out/manifest.json")["Body"].read())["increment"]
    left = 6 - 2 * committed  # only what was not committed is extracted again
    assert (inc["new"], inc["extracted"], inc["unchanged"]) == (left, left, 24 - left)
    rows = {}
    for out in ("out", "ref"):
        for name in ("features", "errors"):
            table = _download(client, "resume", f"{out}/{name}/", tmp_path / out / name)
            rows[out, name] = table_rows(spark, table.parent, name)
    assert rows["out", "features"] == rows["ref", "features"] and rows["out", "errors"] == rows["ref", "errors"] == []
    assert len({r["path"] for r in rows["out", "features"]}) == len(rows["out", "features"]) == 24  # no duplicates
