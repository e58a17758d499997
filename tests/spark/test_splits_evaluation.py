"""Split aliases and Test labels absent from Training, through reduction and evaluation (local Spark)."""

import shutil

import pytest

from fruit_pipeline.errors import PipelineError
from spark.helpers import features, run

pytestmark = pytest.mark.spark
SMALL = {"reduction": {"vocabulary_size": 16, "pca_components": 8, "descriptor_sample": 5000},
         "evaluation": {"max_iter": 50}}
RENAMED = ("Kiwi 1", "Kiwi one")  # a class renamed in Test only, as Fruits-360 once did


@pytest.fixture(scope="module")
def alias_run(spark, small_bank, tmp_path_factory):
    """small_bank re-laid out as train/ val/ test/ (lower case) with one Test class renamed."""
    bank = tmp_path_factory.mktemp("aliases") / "bank"
    shutil.copytree(small_bank / "Training", bank / "train")
    shutil.copytree(small_bank / "Test", bank / "test")
    (bank / "test" / RENAMED[0]).rename(bank / "test" / RENAMED[1])
    shutil.copytree(small_bank / "Test" / "Banana 1", bank / "val" / "Banana 1")
    out = tmp_path_factory.mktemp("out")
    return bank, out, run(spark, bank, out, **SMALL)


def test_lower_case_aliases_give_training_test_and_validation(alias_run):
    bank, out, _ = alias_run
    splits = {}
    for r in features(out):
        splits[r["split"]] = splits.get(r["split"], 0) + 1
    n = {name: sum(1 for _ in (bank / name).rglob("*.jpg")) for name in ("train", "test", "val")}
    assert splits == {"Training": n["train"], "Test": n["test"], "Validation": n["val"]} == \
        {"Training": 90, "Test": 30, "Validation": 6}


def test_unseen_test_labels_are_counted_named_and_left_out_of_the_metrics(alias_run):
    _, out, m = alias_run
    ev = m["evaluation"]
    assert ev["train_rows"] == 90  # Validation is not used for fitting
    assert ev["unseen_test_labels"] == {"Kiwi one": 6} and ev["unseen_test_rows"] == 6
    assert ev["test_rows_total"] == 30 and ev["test_rows"] == 24 == sum(map(sum, ev["confusion"]))
    assert ev["metrics_over"] == ("24 of 30 Test rows (those whose label has Training images); 6 row(s) of 1 "
                                  "label(s) absent from Training left out: 'Kiwi one' (6)")
    assert "Kiwi one" not in ev["labels"] and "Kiwi one" not in ev["per_class_recall"]
    page = (out / "report" / "index.html").read_text()
    assert "absent from Training left out: &#x27;Kiwi one&#x27; (6)" in page


def test_a_bank_without_training_names_its_top_level_folders(spark, small_bank, tmp_path):
    bank = tmp_path / "bank"
    shutil.copytree(small_bank / "Test" / "Kiwi 1", bank / "Trainings" / "Kiwi 1")
    shutil.copytree(small_bank / "Test" / "Banana 1", bank / "photos" / "Banana 1")
    with pytest.raises(PipelineError) as info:
        run(spark, bank, tmp_path / "out", **SMALL)
    assert str(info.value).startswith("no Training images: the vocabulary and PCA are fitted on the Training split "
                                      "only; top-level folders found: 'Trainings', 'photos' (split folders are")
