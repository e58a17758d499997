"""Banks as people have them, on local disk: odd names, glob characters, junk, hidden folders, split aliases."""

from pathlib import Path

import pytest

from fruit_pipeline.bank_files import HIDDEN
from odd_bank import DIMENSIONS, PECHE_NFC, write_odd_bank
from spark.helpers import errors, features, run
from torture import jpeg, textured

pytestmark = pytest.mark.spark
NO_REDUCTION = {"reduction": {"enabled": False}}


def _rel(path: str, root: Path) -> str:
    return path.removeprefix("file:").removeprefix(str(root) + "/")


@pytest.fixture(scope="module")
def odd_run(spark, tmp_path_factory):
    banks = tmp_path_factory.mktemp("banks")
    sibling = banks / "odd v" / "Training" / "Decoy"  # what the unescaped glob `odd [v2]` matches
    sibling.mkdir(parents=True)
    (sibling / "decoy.jpg").write_bytes(jpeg(textured(7)))
    bank = write_odd_bank(banks / "odd [v2]")
    out = tmp_path_factory.mktemp("out")
    return bank, out, run(spark, bank.root, out, **NO_REDUCTION)


def test_every_image_gives_its_exact_label_and_split(odd_run):
    bank, out, _ = odd_run
    got = {_rel(r["path"], bank.root): (r["label"], r["split"]) for r in features(out)}
    assert got == bank.images
    assert errors(out) == []
    dims = {_rel(r["path"], bank.root): (r["width"], r["height"]) for r in features(out)}
    assert dims == {rel: DIMENSIONS.get(rel, (100, 100)) for rel in bank.images}
    assert {_rel(r["path"], bank.root): r["n_keypoints"] for r in features(out)}["Training/Kiwi/thin.png"] == 0
    labels = {r["label"].encode() for r in features(out)}
    assert PECHE_NFC.encode() in labels and b"Apple%20Red" in labels and b"Apple Red" in labels


def test_every_file_is_processed_or_skipped_with_its_reason(odd_run):
    bank, _, m = odd_run
    n_images = len(bank.images)
    assert m["counts"] == {"input_files": n_images + bank.skipped_images, "features_rows": n_images,
                           "error_rows": 0}
    assert m["skipped"]["by_reason"] == bank.by_reason()
    assert m["skipped"]["files"] == len(bank.skipped) and m["skipped"]["image_files"] == bank.skipped_images == 5
    assert m["skipped"]["examples"][HIDDEN] == ["Training/_Unsorted/i.jpg"]


def test_labels_differing_by_case_or_whitespace_are_warned(odd_run):
    bank, out, m = odd_run
    assert m["warnings"] == ["labels differ only by case or surrounding whitespace: 'Kiwi', 'kiwi '"]
    page = (out / "report" / "index.html").read_text()
    assert "labels differ only by case or surrounding whitespace: &#x27;Kiwi&#x27;, &#x27;kiwi &#x27;" in page
    assert "Skipped 8 file(s) under the input" in page


def test_validation_is_its_own_split_value(odd_run):
    _, out, _ = odd_run
    assert sorted(p.name for p in (out / "features").iterdir() if p.is_dir()) == \
        ["_delta_log", "split=Test", "split=Training", "split=Validation"]


def test_other_glob_characters_read_the_literal_folder(spark, tmp_path):
    literal = tmp_path / "b*?{x,y}" / "Training" / "Kiwi"
    decoy = tmp_path / "b12x" / "Training" / "Decoy"
    for folder, seed in ((literal, 1), (decoy, 2)):
        folder.mkdir(parents=True)
        (folder / "a.jpg").write_bytes(jpeg(textured(seed)))
    m = run(spark, tmp_path / "b*?{x,y}", tmp_path / "out", **NO_REDUCTION)
    assert m["counts"]["input_files"] == 1
    assert [(r["label"], r["path"]) for r in features(tmp_path / "out")] == [("Kiwi", f"file:{literal}/a.jpg")]


def test_a_bank_of_only_hidden_files_says_what_it_skipped(spark, tmp_path):
    from fruit_pipeline.errors import PipelineError

    (tmp_path / "bank" / "_Unsorted").mkdir(parents=True)
    (tmp_path / "bank" / "_Unsorted" / "a.jpg").write_bytes(jpeg(textured(1)))
    with pytest.raises(PipelineError, match=r"no \.jpg/\.jpeg/\.png files under .*; 1 skipped \(1 hidden name"):
        run(spark, tmp_path / "bank", tmp_path / "out", **NO_REDUCTION)


def test_an_image_added_after_spark_listed_the_bank_is_counted(spark, tmp_path, monkeypatch):
    """The walk runs after Spark's index is built: a file that arrives in between is a counted skip, and the
    path forms of both listings agree for odd names (else every image would be counted)."""
    from fruit_pipeline.bank_files import NOT_INDEXED
    from fruit_pipeline.stages import listing

    bank = write_odd_bank(tmp_path / "odd [v2]")
    late = bank.root / "Training" / "Apple%20Red" / "late 2024-05-01T10:15:00.jpg"
    survey = listing.survey

    def survey_after_a_late_file(spark_, uri):
        late.write_bytes(jpeg(textured(30)))
        return survey(spark_, uri)

    monkeypatch.setattr(listing, "survey", survey_after_a_late_file)
    m = run(spark, bank.root, tmp_path / "out", **NO_REDUCTION)
    n = len(bank.images)
    assert m["counts"] == {"input_files": n + bank.skipped_images + 1, "features_rows": n, "error_rows": 0}
    assert m["skipped"]["by_reason"][NOT_INDEXED] == 1
    assert m["skipped"]["examples"][NOT_INDEXED] == ["Training/Apple%20Red/late 2024-05-01T10:15:00.jpg"]
