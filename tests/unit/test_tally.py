"""The run's counts and histograms are derived from one small aggregate; these derivations are pure."""

from fruit_pipeline.observability.metrics import keypoint_buckets
from fruit_pipeline.observability.report_plots import keypoint_bins
from fruit_pipeline.stages.accounting import Group, Tally

TALLY = Tally(
    groups=[Group("Test", "apple", None, 3, 300, 30), Group("Test", "apple", "decode", 1, 7, 0),
            Group("Training", "apple", None, 5, 500, 12), Group("Training", "pear", "read", 2, 0, 0),
            Group("Training", "pear", "decode", 1, 9, 0), Group("Training", "banana", None, 4, 40, 0)],
    keypoint_histogram={0: 4, 2: 5, 10: 3},
)


def test_tally_totals():
    assert TALLY.rows == 16
    assert TALLY.feature_rows == 12
    assert TALLY.keypoints_total == 42
    assert TALLY.file_bytes == 856


def test_two_tables_tallies_add_up_to_the_tally_of_both():
    features = Tally([g for g in TALLY.groups if g.stage is None], TALLY.keypoint_histogram)
    errors = Tally([g for g in TALLY.groups if g.stage is not None])
    both = features.plus(errors)
    assert both == errors.plus(features)
    assert (both.rows, both.feature_rows, both.keypoints_total, both.file_bytes) == (16, 12, 42, 856)
    assert both.errors_by_stage() == {"decode": 2, "read": 2} and both.keypoint_histogram == {0: 4, 2: 5, 10: 3}
    assert features.plus(Tally(keypoint_histogram={2: 1, 7: 1})).keypoint_histogram == {0: 4, 2: 6, 7: 1, 10: 3}


def test_errors_by_stage_sums_over_classes():
    assert TALLY.errors_by_stage() == {"decode": 2, "read": 2}


def test_class_counts_count_feature_rows_only_sorted():
    assert TALLY.class_counts() == [("Test", "apple", 3), ("Training", "apple", 5), ("Training", "banana", 4)]


def test_prometheus_buckets_are_cumulative():
    buckets = dict(keypoint_buckets({0: 4, 3: 1, 7: 2, 700: 1}, bounds=(0, 5, 500)))
    assert buckets == {"0.0": 4, "5.0": 5, "500.0": 7, "+Inf": 8}


def test_report_bins_of_ten_with_an_open_last_bin():
    assert keypoint_bins({0: 1, 9: 2, 10: 3, 499: 1, 500: 2, 900: 4}) == [(0, 3), (10, 3), (490, 1), (500, 6)]


def test_label_warnings_and_report_notes():
    from fruit_pipeline.stages.accounting import Group, Tally, label_warnings, report_notes

    tally = Tally([Group("Training", "Kiwi", None, 3, 30, 9), Group("Test", "kiwi ", None, 1, 10, 2),
                   Group("Training", "KIWI", "decode", 1, 5, 0), Group("Training", "Apple", None, 2, 20, 4)])
    warnings = label_warnings(tally)
    assert warnings == ["labels differ only by case or surrounding whitespace: 'Kiwi', 'kiwi '"]
    skipped = {"files": 3, "image_files": 2, "by_reason": {"dangling symbolic link": 1, "hidden name": 2}}
    evaluation = {"unseen_test_rows": 4, "metrics_over": "6 of 10 Test rows (...)"}
    assert report_notes(warnings, skipped, evaluation) == [
        "Warning: labels differ only by case or surrounding whitespace: 'Kiwi', 'kiwi '",
        "Evaluation metrics are over 6 of 10 Test rows (...).",
        "Skipped 3 file(s) under the input: 1 dangling symbolic link, 2 hidden name."]
    assert report_notes([], {"files": 0}, {"unseen_test_rows": 0}) == []


def test_an_increment_tally_adds_to_the_table_tally_group_by_group():
    increment = Tally([Group("Test", "apple", None, 2, 20, 8), Group("Training", "kiwi", "decode", 1, 3, 0)],
                      {2: 1, 6: 1})
    both = TALLY.plus(increment)
    assert both.class_counts() == [("Test", "apple", 5), ("Training", "apple", 5), ("Training", "banana", 4)]
    assert Group("Test", "apple", None, 5, 320, 38) in both.groups
    assert len(both.groups) == len(TALLY.groups) + 1
    assert (both.rows, both.keypoints_total, both.file_bytes) == (19, 50, 879)
    assert both.errors_by_stage() == {"decode": 3, "read": 2}
    assert both.keypoint_histogram == {0: 4, 2: 6, 6: 1, 10: 3}
