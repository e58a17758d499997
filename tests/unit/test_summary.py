"""The end-of-run summary and the evaluation's preconditions (pure)."""


def test_evaluation_preconditions_and_the_summary_line():
    from fruit_pipeline.observability.report import summary_table
    from fruit_pipeline.stages.evaluation import skip_reason

    assert skip_reason(0, 5) == "no Training images"
    assert skip_reason(3, 0) == "no Test images"
    assert skip_reason(1, 5) == "only 1 label in Training: a classifier needs at least 2"
    assert skip_reason(2, 1) is None
    manifest = {"counts": {"input_files": 4, "features_rows": 4, "error_rows": 0}, "durations_s": {},
                "images_per_s": 1.0, "output": "/o", "evaluation": {"skipped": "no Test images"}}
    (line,) = [ln for ln in summary_table(manifest).splitlines() if ln.startswith("evaluation ")]
    assert line.split(None, 1)[1] == "skipped: no Test images"
