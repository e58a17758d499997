"""Which Test rows the metrics cover when some Test labels have no Training images (pure)."""

from fruit_pipeline.classification_metrics import coverage_of_test_rows as coverage
from fruit_pipeline.imaging.labels import no_training_message


def test_all_test_labels_known():
    assert coverage({"A": 3, "B": 2}, ["A", "B", "C"]) == {
        "test_rows_total": 5, "unseen_test_labels": {}, "unseen_test_rows": 0,
        "metrics_over": "5 of 5 Test rows (those whose label has Training images)"}


def test_renamed_classes_are_named_and_counted():
    got = coverage({"Tomato not Ripen 1": 4, "Apple": 10, "pear": 1}, ["Apple", "Tomato not Ripened 1", "Pear"])
    assert got["unseen_test_labels"] == {"Tomato not Ripen 1": 4, "pear": 1}
    assert got["unseen_test_rows"] == 5 and got["test_rows_total"] == 15
    assert got["metrics_over"] == ("10 of 15 Test rows (those whose label has Training images); 5 row(s) of 2 "
                                   "label(s) absent from Training left out: 'Tomato not Ripen 1' (4), 'pear' (1)")


def test_no_training_message_names_top_level_folders():
    assert no_training_message({"photos", "Trainings"}).startswith(
        "no Training images: the vocabulary and PCA are fitted on the Training split only; top-level folders "
        "found: 'Trainings', 'photos' (split folders are named Training/train, Test/testing or Validation/val/valid")
    assert "found: none (images directly in the input folder)" in no_training_message(set())


def test_test_rows_that_all_lack_training_labels_make_evaluation_unscorable():
    from fruit_pipeline.classification_metrics import unscorable_reason

    assert unscorable_reason(coverage({"Tomato not Ripen 1": 4}, ["Tomato not Ripened 1"])) == \
        "no Test image has a label with Training images (see unseen_test_labels)"
    assert unscorable_reason(coverage({"a": 4, "b": 1}, ["a"])) is None
    assert unscorable_reason(coverage({}, ["a"])) is None
