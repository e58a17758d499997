"""Live progress: images done/total per stage, fed by Spark's status tracker, never going back, ending at the
total; on a stage of several steps and several Spark jobs, and on a whole run."""

from __future__ import annotations

import logging
import re
import time

from fruit_pipeline.observability import progress
from fruit_pipeline.observability.progress import StageClock, Step

from . import helpers

LINE = re.compile(r"^(\w[\w ]*): (\d+)/(\d+) images \(\d+ %\), \d+ images/s, ETA (\d+ s|\?), \d+ s so far$")


def _slow_jobs(spark, n: int) -> None:
    slow = lambda _: time.sleep(0.25)  # noqa: E731 - defined here so it is pickled by value
    for _ in range(n):
        spark.sparkContext.parallelize(range(4), 2).foreach(slow)


def test_stage_of_several_steps_and_jobs_rises_and_ends_at_total(spark):
    spark.range(1).count()  # a job before the stage is not counted
    seen = []
    clock = StageClock(spark.sparkContext, interval=0.1, total=1000, listeners=[seen.append], tty=False)
    with clock.stage("work", [Step("first", 2), Step("second", None)]):
        _slow_jobs(spark, 2)
        clock.step("second")
        halfway = len(seen)
        _slow_jobs(spark, 3)
    done = [p.done for p in seen]
    assert len(set(done)) >= 4, done
    assert done == sorted(done), done  # a new Spark job never sends it back
    assert all(p.done <= 500 for p in seen[:halfway]), done  # the first of two steps is at most half the stage
    assert max(done[:-1]) < 1000 and done[-1] == 1000 and seen[-1].total == 1000
    assert all(p.stage == "work" for p in seen)
    assert clock.durations["work"] > 1.0


def test_a_run_reports_every_stage_monotone_to_its_total(spark, small_bank, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL_S", 0.1)
    with caplog.at_level(logging.INFO, logger="fruit_pipeline.progress"):
        manifest = helpers.run(spark, small_bank, tmp_path / "out",
                               reduction={"vocabulary_size": 16, "pca_components": 8, "descriptor_sample": 5000})
    total = manifest["counts"]["input_files"]
    by_stage: dict[str, list[tuple[int, int]]] = {}
    for record in caplog.records:
        if m := LINE.match(record.getMessage()):
            by_stage.setdefault(m[1], []).append((int(m[2]), int(m[3])))
    assert {"extract", "reduce", "evaluate", "write", "report"} <= set(by_stage), by_stage.keys()
    for stage, points in by_stage.items():
        done = [d for d, _t in points]
        assert done == sorted(done), (stage, done)
        assert {t for _d, t in points} == {total} and done[-1] == total, (stage, points)
    assert len(by_stage["reduce"]) >= 3 and len(by_stage["evaluate"]) >= 3  # several points within a long stage


def test_terminal_gets_a_bar_not_lines(spark, capsys, caplog):
    clock = StageClock(spark.sparkContext, interval=0.1, total=50, tty=True)
    with caplog.at_level(logging.INFO, logger="fruit_pipeline.progress"), clock.stage("work"):
        _slow_jobs(spark, 2)
    bar = capsys.readouterr().err
    assert "work" in bar and "img" in bar, bar
    lines = [r.getMessage() for r in caplog.records if LINE.match(r.getMessage())]
    assert lines == [clock.points[-1].line()] and clock.points[-1].done == 50  # only the final line is logged
