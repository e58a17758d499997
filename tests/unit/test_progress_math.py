"""Progress arithmetic without Spark: step fractions, the stage fraction, the monotone clamp, rate and ETA."""

from __future__ import annotations

import pytest

from fruit_pipeline.observability import progress
from fruit_pipeline.observability.progress import RUNNING_CAP, Monotone, point, stage_fraction, step_fraction


def test_step_fraction_with_expected_jobs_counts_each_job_as_a_share():
    # 2 finished jobs + one half done, 10 expected: 2.5 / 10
    assert step_fraction([(True, 4, 4), (True, 8, 8), (False, 2, 4)], 10) == pytest.approx(0.25)
    assert step_fraction([(True, 1, 1)] * 12, 10) == 1.0  # more jobs than expected: capped, not above 1


def test_step_fraction_without_expected_jobs_is_tasks_done_over_tasks_known():
    assert step_fraction([(True, 4, 4), (False, 1, 4)], None) == pytest.approx(5 / 8)
    assert step_fraction([], None) == 0.0


def test_stage_fraction_orders_steps_and_is_capped_while_running():
    assert stage_fraction(0, 4, 0.5) == pytest.approx(0.125)
    assert stage_fraction(2, 4, 0.5) == pytest.approx(0.625)
    assert stage_fraction(3, 4, 1.0) == RUNNING_CAP


def test_monotone_never_goes_back():
    m = Monotone()
    assert [m(f) for f in (0.1, 0.5, 0.2, 0.6, 0.0)] == [0.1, 0.5, 0.5, 0.6, 0.6]


def test_point_rate_and_eta():
    p = point("extract", 0.25, 20_000, 10.0)
    assert (p.done, p.total, p.rate, p.eta_s) == (5_000, 20_000, 500.0, 30.0)
    assert p.line() == "extract: 5000/20000 images (25 %), 500 images/s, ETA 30 s, 10 s so far"
    assert point("extract", 0.0, 100, 3.0).eta_s is None
    assert point("extract", 1.7, 100, 3.0).done == 100  # clamped to the total


def test_progress_points_are_prometheus_gauges():
    from prometheus_client import generate_latest

    from fruit_pipeline.config import PipelineConfig
    from fruit_pipeline.observability.metrics import JobMetrics

    metrics = JobMetrics(PipelineConfig(), "run-1")
    metrics.progress(progress.point("reduce", 0.5, 200, 4.0))
    text = generate_latest(metrics.registry).decode()
    assert 'fruit_pipeline_stage_images_done{stage="reduce"} 100.0' in text
    assert 'fruit_pipeline_stage_images_total{stage="reduce"} 200.0' in text
    assert 'fruit_pipeline_stage_images_per_second{stage="reduce"} 25.0' in text
    assert 'fruit_pipeline_stage_eta_seconds{stage="reduce"} 4.0' in text
