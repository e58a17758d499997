"""`run --mode append` on Delta tables (issue 19, acceptance 1, 2 and 5 locally): only new and changed files are
extracted, the tables end equal to a full run / a transform, deleted files are reported and pruned."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from spark.helpers import run
from spark.table_helpers import SMALL, a_and_b, add_files, table_rows

pytestmark = pytest.mark.spark



@pytest.fixture(scope="module")
def banks(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """(bank A at its final place, a folder holding the B files, B's paths relative to the bank): 3 classes x 8."""
    return a_and_b(tmp_path_factory.mktemp("banks"), seed=21)


def _bank_a_then_b(banks, tmp_path) -> Path:
    """A fresh copy of bank A under tmp_path/bank (rows are keyed by path: the bank stays where it is)."""
    a, _b, _rels = banks
    shutil.copytree(a, tmp_path / "bank")
    return tmp_path / "bank"


def test_append_extracts_only_b_and_equals_a_transform_of_a_plus_b(spark, banks, tmp_path):
    _a, b, rels = banks
    bank = _bank_a_then_b(banks, tmp_path)
    first = run(spark, bank, tmp_path / "out", **SMALL)
    n_a = first["counts"]["features_rows"]
    add_files(b, bank)
    m = run(spark, bank, tmp_path / "out", increment={"mode": "append"}, **SMALL)
    assert m["increment"]["new"] == len(rels) == 6 and m["increment"]["extracted"] == 6
    assert (m["increment"]["changed"], m["increment"]["deleted"], m["increment"]["unchanged"]) == (0, 0, n_a)
    assert m["increment"]["refit"] is False and m["increment"]["models"]["uri"] == str(tmp_path / "out" / "models")
    assert m["counts"] == {"input_files": n_a + 6, "features_rows": n_a + 6, "error_rows": 0}
    assert m["increment"]["table_versions"] == {"features": 1, "errors": 0}  # one MERGE; errors had nothing to change
    # A's models applied to A+B from scratch (transform) give the same table: rows and feature values
    from fruit_pipeline import pipeline
    from fruit_pipeline.config import build_config

    cfg = build_config(None, {"input": str(bank), "output": str(tmp_path / "transformed"),
                              "spark": {"master": "local[2]"}, **SMALL})
    shutil.copytree(tmp_path / "out" / "models", tmp_path / "models_a")
    pipeline.run(cfg, spark, models_uri=str(tmp_path / "models_a"))
    got, want = table_rows(spark, tmp_path / "out", "features"), table_rows(spark, tmp_path / "transformed", "features")
    assert len(got) == n_a + 6 and got == want
    # the run log: one entry per run, the latest also at manifest.json
    runs = sorted((tmp_path / "out" / ".fruit-pipeline" / "runs").glob("*.json"))
    assert [r.stem for r in runs] == sorted([first["run_id"], m["run_id"]])


def test_append_with_refit_equals_a_full_run_on_a_plus_b(spark, banks, tmp_path):
    _a, b, rels = banks
    bank = _bank_a_then_b(banks, tmp_path)
    run(spark, bank, tmp_path / "out", **SMALL)
    add_files(b, bank)
    evaluated = {**SMALL, "evaluation": {"enabled": True}}
    m = run(spark, bank, tmp_path / "out", increment={"mode": "append", "refit": True}, **evaluated)
    assert m["increment"]["new"] == 6 and m["increment"]["refit"] is True
    full = run(spark, bank, tmp_path / "full", **evaluated)
    got, want = table_rows(spark, tmp_path / "out", "features"), table_rows(spark, tmp_path / "full", "features")
    # The same rows and values; the refitted PCA equals the full run's up to summation order (measured 1.5e-15:
    # the table's files are laid out differently from a fresh extraction), so the reduced vectors to 1e-12.
    assert [{k: v for k, v in r.items() if k != "features"} for r in got] == \
        [{k: v for k, v in r.items() if k != "features"} for r in want]
    assert len(got) == 24 and all(np.allclose(g["features"], w["features"], rtol=0, atol=1e-12)
                                  for g, w in zip(got, want))
    # evaluation and report on the table (acceptance 5): the same metrics as the full run
    assert m["evaluation"]["accuracy"] == full["evaluation"]["accuracy"]
    assert m["evaluation"]["confusion"] == full["evaluation"]["confusion"]
    assert m["evaluation"]["test_rows"] == full["evaluation"]["test_rows"] == 6
    assert (tmp_path / "out" / "report" / "index.html").is_file()
    assert np.allclose(m["reduction"]["explained_variance"], full["reduction"]["explained_variance"], rtol=1e-12)


def test_an_append_without_refit_evaluates_the_whole_table_only_when_asked(spark, banks, tmp_path):
    _a, b, _rels = banks
    bank = _bank_a_then_b(banks, tmp_path)
    evaluated = {**SMALL, "evaluation": {"enabled": True}}
    run(spark, bank, tmp_path / "out", **evaluated)
    add_files(b, bank)
    m = run(spark, bank, tmp_path / "out", increment={"mode": "append"}, **evaluated)
    assert m["evaluation"] == {"skipped": "append without --refit: the models did not change; use --evaluate to "
                                          "evaluate the whole table"}
    assert "Evaluation skipped: append without --refit" in (tmp_path / "out" / "report" / "index.html").read_text()
    asked = run(spark, bank, tmp_path / "out", increment={"mode": "append", "evaluate": True}, **evaluated)
    ev = asked["evaluation"]  # acceptance 5: the classifier on every row of the table, A's and B's
    assert (ev["train_rows"], ev["test_rows"]) == (18, 6) and sum(map(sum, ev["confusion"])) == 6
    assert asked["increment"]["extracted"] == 0


def test_changed_file_replaced_deleted_file_reported_then_pruned(spark, banks, tmp_path, caplog):
    a, _b, _rels = banks
    bank = _bank_a_then_b(banks, tmp_path)
    run(spark, bank, tmp_path / "out", **SMALL)
    changed, source = bank / "Training" / "Apple" / "1_100.jpg", bank / "Training" / "Apple" / "2_100.jpg"
    deleted = bank / "Training" / "Apple" / "3_100.jpg"
    if not (changed.exists() and source.exists() and deleted.exists()):
        changed, source, deleted = sorted(bank.rglob("*.jpg"))[:3]
    shutil.copyfile(source, changed)
    os.utime(changed, (1_900_000_000, 1_900_000_000))
    deleted.unlink()
    before = {r["path"]: r for r in table_rows(spark, tmp_path / "out", "features")}
    with caplog.at_level(logging.WARNING, logger="fruit_pipeline"):
        m = run(spark, bank, tmp_path / "out", increment={"mode": "append"}, **SMALL)
    inc = m["increment"]
    assert (inc["new"], inc["changed"], inc["deleted"], inc["extracted"], inc["pruned_rows"]) == (0, 1, 1, 1, 0)
    assert "1 file(s) in the tables are no longer in the bank (kept; --prune removes them)" in caplog.text
    after = {r["path"]: r for r in table_rows(spark, tmp_path / "out", "features")}
    key = lambda p: f"file:{p}"  # noqa: E731 - the path as Spark's binaryFile source writes it
    assert set(after) == set(before) and key(deleted) in after
    row, twin = after[key(changed)], after[key(source)]
    assert row["file_bytes"] == source.stat().st_size and row["source_mtime"].timestamp() == 1_900_000_000
    for column in ("n_keypoints", "descriptors", "colour_hist", "bovw", "features"):
        assert row[column] == twin[column], column  # the same bytes as `source`: the same features
    assert row != before[key(changed)]
    pruned = run(spark, bank, tmp_path / "out", increment={"mode": "append", "prune": True}, **SMALL)
    assert (pruned["increment"]["deleted"], pruned["increment"]["pruned_rows"]) == (1, 1)
    assert pruned["counts"]["features_rows"] == len(before) - 1
    assert key(deleted) not in {r["path"] for r in table_rows(spark, tmp_path / "out", "features")}
    again = run(spark, bank, tmp_path / "out", increment={"mode": "append"}, **SMALL)
    assert {k: again["increment"][k] for k in ("new", "changed", "deleted", "extracted")} == \
        {"new": 0, "changed": 0, "deleted": 0, "extracted": 0}
    assert again["increment"]["unchanged"] == len(before) - 1
