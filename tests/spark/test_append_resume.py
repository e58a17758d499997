"""A killed append, run again, ends with the table of an uninterrupted append; two appends at once: the second is
refused with one line and the table stays that of one append (issue 19, acceptance 3 and 4, local disk)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fruit_pipeline.sample_bank import BankSpec, write_bank
from spark.helpers import manifest, run
from spark.table_helpers import SMALL, add_files, split_bank, table_rows

pytestmark = pytest.mark.spark

BATCH = 2  # 6 new files: 3 batches, 3 commits of the features table


@pytest.fixture(scope="module")
def prepared(spark, tmp_path_factory) -> dict:
    """Bank A run into `out_a`; then B added to the bank; `ref` = rows of an uninterrupted append of B."""
    root = tmp_path_factory.mktemp("resume")
    write_bank(BankSpec(root / "full", classes=3, per_class=8, test_fraction=0.25, seed=33), workers=1)
    bank, b, rels = split_bank(root / "full", root / "bank", root / "b", every=4)
    first = run(spark, bank, root / "out_a", **SMALL)
    add_files(b, bank)
    shutil.copytree(root / "out_a", root / "ref")
    m = run(spark, bank, root / "ref", increment={"mode": "append", "batch_files": BATCH}, **SMALL)
    assert m["increment"]["new"] == len(rels) == 6 and m["increment"]["batches"] == 3
    return {"root": root, "bank": bank, "first": first, "ref": table_rows(spark, root / "ref", "features"),
            "ref_errors": table_rows(spark, root / "ref", "errors")}


def _command(bank: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "fruit_pipeline", "-q", "run", "--input", str(bank), "--output", str(out),
            "--mode", "append", "--batch-files", str(BATCH), "--master", "local[2]", "--no-metrics",
            "--no-event-log", "--no-evaluation"]


def _env(tmp: Path) -> dict:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"), "FRUIT_PIPELINE_LOCK_LEASE_S": "4"}


def _versions(table: Path) -> int:
    return len(list((table / "_delta_log").glob("*.json")))


def _wait_for(check, proc: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, f"the run ended before {what}: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def test_a_killed_append_rerun_equals_an_uninterrupted_one(spark, prepared, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(prepared["root"] / "out_a", out)
    start = _versions(out / "features")
    proc = subprocess.Popen(_command(prepared["bank"], out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(tmp_path), start_new_session=True)
    _wait_for(lambda: _versions(out / "features") > start, proc, "a committed batch")
    os.killpg(proc.pid, signal.SIGKILL)  # the driver, its JVM and Python workers, at once
    assert proc.wait(timeout=60) == -signal.SIGKILL
    committed = _versions(out / "features") - start
    assert 1 <= committed < 3  # killed in the middle: some batches committed, not all
    assert manifest(out)["run_id"] == prepared["first"]["run_id"]  # no manifest for the killed run
    assert len(table_rows(spark, out, "features")) == prepared["first"]["counts"]["features_rows"] + BATCH * committed
    again = subprocess.run(_command(prepared["bank"], out), capture_output=True, text=True, env=_env(tmp_path),
                           timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    inc = manifest(out)["increment"]
    assert (inc["new"], inc["extracted"]) == (6 - BATCH * committed, 6 - BATCH * committed)  # only what was left
    assert inc["unchanged"] == prepared["first"]["counts"]["features_rows"] + BATCH * committed
    rows = table_rows(spark, out, "features")
    assert rows == prepared["ref"] and len({r["path"] for r in rows}) == len(rows)  # identical, no duplicates
    assert table_rows(spark, out, "errors") == prepared["ref_errors"]


def test_a_second_append_at_once_is_refused_with_one_line(spark, prepared, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(prepared["root"] / "out_a", out)
    first = subprocess.Popen(_command(prepared["bank"], out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=_env(tmp_path), start_new_session=True)
    _wait_for(lambda: (out / ".fruit-pipeline" / "lock").exists(), first, "the first run's lock")
    second = subprocess.run(_command(prepared["bank"], out), capture_output=True, text=True, env=_env(tmp_path),
                            timeout=300)
    assert first.poll() is None  # the first was still writing when the second gave up
    assert second.returncode == 2, second.stderr
    (line,) = second.stderr.splitlines()
    assert line.startswith("fruit-pipeline: error: another fruit-pipeline run (run ") and \
        f"is writing to {out}; wait for it to end" in line
    assert first.wait(timeout=900) == 0, first.stderr.read()[-3000:]
    assert manifest(out)["increment"]["new"] == 6
    assert table_rows(spark, out, "features") == prepared["ref"]
    assert table_rows(spark, out, "errors") == prepared["ref_errors"]
