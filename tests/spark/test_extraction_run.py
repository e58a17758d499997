"""The job on a real local SparkSession: schema, labels, accounting, determinism, reruns."""

import shutil

import pyarrow.parquet as pq
import pytest

from fruit_pipeline.stages import feature_table
from spark.helpers import errors, features, manifest, run
from torture import jpeg, textured, write_torture_bank

pytestmark = pytest.mark.spark
NO_REDUCTION = {"reduction": {"enabled": False}}


@pytest.fixture(scope="module")
def first_run(spark, small_bank, tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    return out, run(spark, small_bank, out, **NO_REDUCTION)


def test_schema_and_counts(first_run, small_bank):
    out, m = first_run
    n_files = len(list(small_bank.rglob("*.jpg")))
    assert m["counts"] == {"input_files": n_files, "features_rows": n_files, "error_rows": 0}
    schema = pq.read_schema(next((out / "features").rglob("*.parquet")))
    for name in ["path", "label", "width", "height", "n_keypoints", "keypoints", "descriptors", "colour_hist"]:
        assert name in schema.names
    assert sorted(p.name for p in (out / "features").iterdir() if p.is_dir()) == \
        ["_delta_log", "split=Test", "split=Training"]  # a Delta table, partitioned by split
    assert "source_mtime" in schema.names
    assert (out / "errors" / "_delta_log").is_dir() and errors(out) == []


def test_rows_have_labels_splits_and_full_descriptors(first_run):
    rows = features(first_run[0])
    assert {r["label"] for r in rows} == {"Apple Red 1", "Banana 1", "Kiwi 1", "Orange 1", "Strawberry 1"}
    assert sum(r["split"] == "Test" for r in rows) == 5 * 6
    for r in rows:
        assert r["n_keypoints"] == len(r["descriptors"]) == len(r["keypoints"])
        assert all(len(d) == 32 for d in r["descriptors"])
        assert (r["width"], r["height"]) == (100, 100)
        assert abs(sum(r["colour_hist"]) - 1) < 1e-4
    assert sum(r["n_keypoints"] for r in rows) / len(rows) > 20


def test_manifest_describes_the_run(first_run):
    m = manifest(first_run[0])
    assert {"list", "extract", "write"} <= set(m["durations_s"])
    assert m["versions"]["pyspark"].startswith("4.0.") and m["images_per_s"] > 0
    assert m["parameters"]["extraction"]["orb"]["edge_threshold"] == 10


def test_two_runs_give_identical_features(spark, small_bank, first_run, tmp_path):
    run(spark, small_bank, tmp_path, **NO_REDUCTION)
    a, b = features(first_run[0]), features(tmp_path)
    assert [(r["path"], r["descriptors"], r["colour_hist"]) for r in a] == \
           [(r["path"], r["descriptors"], r["colour_hist"]) for r in b]


def test_labels_with_spaces_non_ascii_and_upper_case_extensions(spark, tmp_path):
    bank = tmp_path / "bank"
    for rel in ["Training/Pêche 1/A.JPG", "test/Apple Red 1/b.jpeg", "TEST/Kiwi 1/c.PNG", "Other/Kiwi 1/d.jpg",
                "Training/Kiwi 1/e.gif"]:
        (bank / rel).parent.mkdir(parents=True, exist_ok=True)
        (bank / rel).write_bytes(jpeg(textured(1)))
    m = run(spark, bank, tmp_path / "out", **NO_REDUCTION)
    assert m["counts"]["input_files"] == 4  # the .gif is not an image name
    got = {(r["path"].rsplit("/", 1)[1], r["label"], r["split"]) for r in features(tmp_path / "out")}
    assert got == {("A.JPG", "Pêche 1", "Training"), ("b.jpeg", "Apple Red 1", "Test"),
                   ("c.PNG", "Kiwi 1", "Test"), ("d.jpg", "Kiwi 1", "unsplit")}


def test_torture_bank_loses_nothing(spark, tmp_path):
    bank = tmp_path / "bank"
    expected = write_torture_bank(bank)
    m = run(spark, bank, tmp_path / "out", **NO_REDUCTION)
    c = m["counts"]
    assert c["input_files"] == len(expected)
    assert c["features_rows"] + c["error_rows"] == c["input_files"]
    errs = {r["path"].rsplit("/", 1)[1]: r for r in errors(tmp_path / "out")}
    assert set(errs) == {n for n, stage in expected.items() if stage}
    assert all(r["reason"] and r["stage"] == "decode" for r in errs.values())
    assert "too large" in errs["huge.jpg"]["reason"]
    feats = {r["path"].rsplit("/", 1)[1]: r for r in features(tmp_path / "out")}
    assert feats["white.jpg"]["n_keypoints"] == 0 and feats["white.jpg"]["descriptors"] == []
    assert m["errors_by_stage"] == {"decode": len(errs)}


def test_oversized_files_are_error_rows(spark, tmp_path):
    bank = tmp_path / "bank" / "Training" / "A"
    bank.mkdir(parents=True)
    (bank / "ok.jpg").write_bytes(jpeg(textured(1)))
    (bank / "big.jpg").write_bytes(jpeg(textured(2)) + b"\0" * 50_000)
    m = run(spark, tmp_path / "bank", tmp_path / "out", extraction={"max_file_bytes": 40_000}, **NO_REDUCTION)
    assert m["counts"] == {"input_files": 2, "features_rows": 1, "error_rows": 1}
    (err,) = errors(tmp_path / "out")
    assert err["stage"] == "read" and "file too large" in err["reason"] and err["label"] == "A"


def test_rerun_replaces_output(spark, small_bank, tmp_path):
    run(spark, small_bank, tmp_path, **NO_REDUCTION)
    run(spark, small_bank, tmp_path, **NO_REDUCTION)
    rows = features(tmp_path)
    assert len(rows) == len({r["path"] for r in rows}) == len(list(small_bank.rglob("*.jpg")))


def _snapshot(out) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and ".fruit-pipeline" not in p.parts}


def test_a_failed_rerun_keeps_the_previous_output_valid(spark, small_bank, tmp_path, monkeypatch):
    """A first run with --overwrite into the user's folder keeps their file; two failed reruns change nothing."""
    from fruit_pipeline import pipeline
    from fruit_pipeline.config import build_config
    from fruit_pipeline.errors import PipelineError

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's")
    cfg = build_config(None, {"input": str(small_bank), "output": str(out), "spark": {"master": "local[2]"},
                              **NO_REDUCTION})
    first = pipeline.run(cfg, spark, overwrite=True)
    assert (out / "notes.txt").read_text() == "the user's"
    before = _snapshot(out)
    assert manifest(out)["files"] == sorted(k for k in before if k not in ("manifest.json", "notes.txt"))
    empty = tmp_path / "empty" / "Training"
    empty.mkdir(parents=True)
    with pytest.raises(PipelineError, match="no .jpg/.jpeg/.png files under"):
        run(spark, empty.parent, out, **NO_REDUCTION)

    write = feature_table.write

    def boom(df, output, name):  # the features table is written into staging, then the errors table fails
        if name == feature_table.ERRORS:
            raise RuntimeError("disk full")
        write(df, output, name)

    monkeypatch.setattr(feature_table, "write", boom)
    with pytest.raises(RuntimeError):
        run(spark, small_bank, out, **NO_REDUCTION)
    assert _snapshot(out) == before and manifest(out)["run_id"] == first["run_id"]
    assert len(features(out)) == first["counts"]["features_rows"]
    assert sorted(p.name for p in (out / ".fruit-pipeline").iterdir()) == ["files.json", "runs", "staging"]
    assert list((out / ".fruit-pipeline" / "staging").iterdir()) == []


def test_empty_input_is_a_clear_error(spark, tmp_path):
    from fruit_pipeline.errors import PipelineError
    (tmp_path / "bank" / "Training").mkdir(parents=True)
    (tmp_path / "bank" / "Training" / "readme.txt").write_text("x")
    with pytest.raises(PipelineError, match="no .jpg/.jpeg/.png files under"):
        run(spark, tmp_path / "bank", tmp_path / "out", **NO_REDUCTION)
    shutil.rmtree(tmp_path / "bank")


def _changing_after_the_pass(monkeypatch, change):
    """Calls `change()` once the features table is written, before the failed files are read again."""
    from fruit_pipeline.stages import file_rows

    rows_of = file_rows.rows_of

    def changed_first(*args, **kwargs):
        change()
        return rows_of(*args, **kwargs)

    monkeypatch.setattr(file_rows, "rows_of", changed_first)


@pytest.mark.parametrize("change, stage, reason", [
    ("fixed", "read", "file changed while the run read it"),  # now decodes: neither table may silently hold it
    ("deleted", "read", "file disappeared between listing and reading"),
    ("emptied", "decode", "empty file (0 bytes)"),
])
def test_a_failed_file_that_changes_before_its_reason_is_read_is_still_an_error_row(
        spark, tmp_path, monkeypatch, change, stage, reason):
    bank = tmp_path / "bank" / "Training" / "A"
    bank.mkdir(parents=True)
    (bank / "ok.jpg").write_bytes(jpeg(textured(1)))
    junk = bank / "junk.jpg"
    junk.write_bytes(b"not an image")
    actions = {"fixed": lambda: junk.write_bytes(jpeg(textured(2))), "deleted": junk.unlink,
               "emptied": lambda: junk.write_bytes(b"")}
    _changing_after_the_pass(monkeypatch, actions[change])
    m = run(spark, tmp_path / "bank", tmp_path / "out", **NO_REDUCTION)
    assert m["counts"] == {"input_files": 2, "features_rows": 1, "error_rows": 1}
    (err,) = errors(tmp_path / "out")
    assert (err["path"].rsplit("/", 1)[1], err["stage"], err["label"]) == ("junk.jpg", stage, "A")
    assert err["reason"].startswith(reason), err["reason"]
    assert [r["path"].rsplit("/", 1)[1] for r in features(tmp_path / "out")] == ["ok.jpg"]


@pytest.mark.parametrize("fit, cached_fit_max_images", [(False, 25_000), (True, 0), (True, 25_000)])
def test_only_a_small_bank_caches_its_extraction_for_the_fit(spark, small_bank, tmp_path, monkeypatch, fit,
                                                              cached_fit_max_images):
    """Without a fit, or above `cached_fit_max_images`, the features write is the single pass over the bank (the fit
    read only its sample before it); a small bank that is fitted is cached once and written from the cache."""
    write = feature_table.write
    persisted = lambda: {int(k): str(v.name()) for k, v in spark.sparkContext._jsc.getPersistentRDDs().items()}  # noqa: E731
    before = persisted()
    cached_at_write: list[dict] = []

    def watching(df, output, name):
        if name == feature_table.FEATURES:
            cached_at_write.append({k: v for k, v in persisted().items() if k not in before})
        write(df, output, name)

    monkeypatch.setattr(feature_table, "write", watching)
    sections = {"reduction": {"vocabulary_size": 8, "pca_components": 4,
                              "cached_fit_max_images": cached_fit_max_images}} if fit else NO_REDUCTION
    m = run(spark, small_bank, tmp_path / "out", **sections, evaluation={"enabled": False})
    cached = fit and cached_fit_max_images > 0
    assert len(cached_at_write) == 1 and bool(cached_at_write[0]) == cached, cached_at_write
    left = [name for k, name in persisted().items() if k not in before and not name.startswith("Delta Table State")]
    assert left == []  # nothing of the run's stays cached (Delta keeps its own table states)
    assert m["counts"]["features_rows"] == len(list(small_bank.rglob("*.jpg")))


def test_a_cached_and_a_single_pass_run_fit_the_same_models(spark, small_bank, tmp_path):
    """Caching is only a way to run: both fit on the same fit sample and write the same table."""
    import numpy as np

    small = {"vocabulary_size": 8, "pca_components": 4, "fit_images": 40}
    for name, limit in (("cached", 25_000), ("pass", 0)):
        run(spark, small_bank, tmp_path / name, reduction={**small, "cached_fit_max_images": limit},
            evaluation={"enabled": False})
    a, b = features(tmp_path / "cached"), features(tmp_path / "pass")
    assert [(r["path"], r["bovw"]) for r in a] == [(r["path"], r["bovw"]) for r in b] and len(a) > 40
    assert np.allclose([r["features"] for r in a], [r["features"] for r in b], rtol=0, atol=1e-9)
