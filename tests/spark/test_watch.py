"""`run --mode append --watch SECONDS` (issue 19): one session appends each poll's new files as one increment,
polls that find nothing write nothing, and SIGTERM ends the watch with exit 0 after the current poll."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fruit_pipeline import pipeline
from fruit_pipeline.appending import Memory
from fruit_pipeline.config import build_config
from fruit_pipeline.observability import report_samples
from fruit_pipeline.observability.report_digest import ReportDigest
from fruit_pipeline.stages import accounting, feature_table
from fruit_pipeline.stages.output_guard import RUNS
from fruit_pipeline.watching import watch
from infra.net import free_port, http_get
from spark.helpers import run
from spark.table_helpers import SMALL, a_and_b, add_files, table_rows

pytestmark = pytest.mark.spark



@pytest.fixture(scope="module")
def banks(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """(bank A, a folder holding the B files, B's paths relative to the bank): 3 classes x 8 images."""
    return a_and_b(tmp_path_factory.mktemp("watch-banks"), seed=23)


def _run_log(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / RUNS).glob("*.json"))]


def test_each_poll_with_new_files_is_one_increment_and_quiet_polls_write_nothing(spark, banks, tmp_path):
    a, b, rels = banks
    bank = tmp_path / "bank"
    shutil.copytree(a, bank)
    n_a = sum(1 for _ in a.rglob("*.jpg"))
    port = free_port()
    cfg = build_config(None, {"input": str(bank), "output": str(tmp_path / "out"), "spark": {"master": "local[2]"},
                              "increment": {"mode": "append", "watch_s": 0.01}, "metrics": {"port": port}, **SMALL})
    increments: list[dict] = []
    polls: list[int] = []
    scraped: list[tuple[str, float]] = []  # between polls: (run_id, images ok) the driver's endpoint exports

    def after_poll(number: int) -> None:
        polls.append(number)
        samples = {s.name: s for f in text_string_to_metric_families(http_get(f"http://127.0.0.1:{port}/metrics")
                                                                    .decode()) for s in f.samples
                   if s.name in ("fruit_pipeline_run_info", "fruit_pipeline_images_total") and
                   s.labels.get("outcome", "ok") == "ok"}
        scraped.append((samples["fruit_pipeline_run_info"].labels["run_id"],
                        samples["fruit_pipeline_images_total"].value))
        if number == 2:  # poll 1 commits A, poll 2 finds nothing, B arrives before poll 3, poll 4 finds nothing
            add_files(b, bank)

    assert watch(cfg, spark, polls=4, on_increment=increments.append, after_poll=after_poll) == 2
    assert polls == [1, 2, 3, 4]
    assert [(m["increment"]["new"], m["increment"]["unchanged"], m["increment"]["extracted"]) for m in increments] \
        == [(n_a, 0, n_a), (len(rels), n_a, len(rels))]
    assert [m["run_id"] for m in _run_log(tmp_path / "out")] == [m["run_id"] for m in increments]
    # one metrics endpoint for the whole watch: after a quiet poll it still exports the last increment's metrics
    first, second = [(m["run_id"], m["counts"]["features_rows"]) for m in increments]
    assert scraped == [first, first, second, second] and second[1] == n_a + len(rels)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["run_id"] == increments[-1]["run_id"]
    # the same table as the same two appends run one by one (each in its own run)
    ref_bank = tmp_path / "ref" / "bank"
    shutil.copytree(a, ref_bank)
    run(spark, ref_bank, tmp_path / "ref" / "out", increment={"mode": "append"}, **SMALL)
    add_files(b, ref_bank)
    run(spark, ref_bank, tmp_path / "ref" / "out", increment={"mode": "append"}, **SMALL)
    got = _relative(table_rows(spark, tmp_path / "out", "features"))
    want = _relative(table_rows(spark, tmp_path / "ref" / "out", "features"))
    assert len(got) == n_a + len(rels) and got == want


def _read_digest(spark, cfg) -> ReportDigest:
    """The report's digest as a run reads it from the whole tables."""
    features = spark.read.format("delta").load(f"{cfg.output}/features").drop("descriptors")
    errors = spark.read.format("delta").load(f"{cfg.output}/errors")
    return ReportDigest(accounting.table_tally(spark, cfg.output),
                        report_samples.scatter_rows(features, cfg.evaluation.scatter_points, cfg.reduction.seed),
                        *report_samples.samples_of(spark, features, cfg.reduction.seed),
                        report_samples.first_errors(errors))


def test_a_poll_of_new_files_merges_them_into_what_the_last_poll_read(spark, banks, tmp_path, caplog):
    """What a poll leaves known (models, recorded paths, the report's digest) is what the tables hold: an increment
    of new files merged into it gives the report the digest read from the whole tables, errors included; once
    another writer commits, the next poll reads the tables again."""
    a, b, rels = banks
    bank = tmp_path / "bank"
    shutil.copytree(a, bank)
    cfg = build_config(None, {"input": str(bank), "output": str(tmp_path / "out"), "spark": {"master": "local[2]"},
                              "increment": {"mode": "append"}, **SMALL,
                              "evaluation": {"enabled": False, "scatter_points": 10}})  # fewer than the rows
    memory = Memory()
    pipeline.run(cfg, spark, memory=memory)
    add_files(b, bank)
    label = rels[0].split("/")[1]
    (bank / "Training" / label / "broken.jpg").write_bytes(b"not an image")
    (bank / "Training" / label / "empty.jpg").touch()
    with caplog.at_level("INFO", logger="fruit_pipeline.appending"):
        manifest = pipeline.run(cfg, spark, memory=memory)
    assert "the report's digest follows the increment's rows" in caplog.text
    assert manifest["increment"]["new"] == len(rels) + 2 and manifest["counts"]["error_rows"] == 2
    merged = memory.known.digest
    assert merged == _read_digest(spark, cfg)
    assert [e["path"].rsplit("/", 1)[1] for e in merged.errors] == ["broken.jpg", "empty.jpg"]
    assert len(merged.samples()) == 3 * 4 and len(merged.scatter) == 10
    assert manifest["errors_sample"] == merged.errors
    # another writer: a one-off append of one more file; the next poll reads the tables again
    shutil.copy(b / rels[0], bank / "Training" / label / "late.jpg")
    run(spark, bank, tmp_path / "out", increment={"mode": "append"}, **SMALL)
    caplog.clear()
    with caplog.at_level("INFO", logger="fruit_pipeline.appending"):
        again = pipeline.run(cfg, spark, memory=memory)
    assert "the tables changed since the last poll" in caplog.text
    assert "digest follows" not in caplog.text and again["increment"]["extracted"] == 0
    assert memory.known.digest == _read_digest(spark, cfg)
    assert memory.known.recorded == feature_table.recorded(spark, cfg.output)


def _relative(rows: list[dict]) -> list[dict]:
    """The rows with `path` relative to their bank (the two banks differ by folder only)."""
    return [{**r, "path": r["path"].split("/bank/", 1)[1]} for r in rows]


def test_sigterm_ends_the_watch_after_its_poll_with_exit_0(banks, tmp_path):
    a, _b, _rels = banks
    bank, out = tmp_path / "bank", tmp_path / "out"
    shutil.copytree(a, bank)
    proc = subprocess.Popen([sys.executable, "-m", "fruit_pipeline", "run", "--input", str(bank), "--output",
                             str(out), "--mode", "append", "--watch", "0.2", "--master", "local[2]", "--no-metrics",
                             "--no-event-log", "--no-evaluation", "--vocabulary-size", "8", "--pca-components", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        deadline = time.monotonic() + 300
        while not (out / "manifest.json").exists():
            assert proc.poll() is None, f"the watch ended early: {proc.stderr.read()[-3000:]}"
            assert time.monotonic() < deadline, "no increment after 300 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    assert "watch: stopped after" in stderr and "1 increment(s) committed" in stderr, stderr[-3000:]
    assert stdout.count("feature rows") == 1  # one summary: the one increment
    assert len(_run_log(out)) == 1 and not list((out / ".fruit-pipeline").glob("lock*"))
