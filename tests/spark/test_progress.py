"""Progress lines of a long stage count the tasks of every Spark job the stage ran, and never go back."""

from __future__ import annotations

import logging
import re
import time

from fruit_pipeline.observability.progress import StageClock

LINE = re.compile(r"work: (\d+)/(\d+) tasks in (\d+) Spark job\(s\)")


def test_progress_spans_jobs_and_is_monotone(spark, caplog):
    slow = lambda _: time.sleep(0.3)  # noqa: E731 - defined here so it is pickled by value
    spark.range(1).count()  # a job before the stage is not counted
    clock = StageClock(spark.sparkContext, interval=0.2)
    with caplog.at_level(logging.INFO, logger="fruit_pipeline.progress"), clock.stage("work"):
        spark.sparkContext.parallelize(range(8), 4).foreach(slow)
        spark.sparkContext.parallelize(range(8), 4).foreach(slow)
    lines = [LINE.search(r.getMessage()) for r in caplog.records]
    seen = [(int(m[1]), int(m[2]), int(m[3])) for m in lines if m]
    assert seen, [r.getMessage() for r in caplog.records]
    done = [d for d, _, _ in seen]
    assert done == sorted(done)
    assert all(d <= t <= 8 for d, t, _ in seen)
    # while the second job runs, the first one's 4 tasks stay counted (no "4/4" then "0/4")
    assert any(j == 2 and d >= 4 for d, _, j in seen), seen
    assert clock.durations["work"] > 0.6
