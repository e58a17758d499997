"""Stage timings and progress lines for long runs (polls Spark's status tracker; no per-row work)."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from pyspark import SparkContext

log = logging.getLogger("fruit_pipeline.progress")


class StageClock:
    """Times named stages and, while one runs, logs task progress every `interval` seconds."""

    def __init__(self, sc: SparkContext | None, interval: float = 10.0) -> None:
        self.sc = sc
        self.interval = interval
        self.durations: dict[str, float] = {}
        self._jobs_before: set[int] = set()

    def _job_ids(self) -> set[int]:
        return set(self.sc.statusTracker().getJobIdsForGroup()) if self.sc is not None else set()

    def _progress_line(self) -> str | None:
        """Tasks done / known over every Spark job started since the stage began (done never goes back)."""
        tracker = self.sc.statusTracker()
        jobs = sorted(self._job_ids() - self._jobs_before)
        done = total = 0
        for job_id in jobs:
            job = tracker.getJobInfo(job_id)
            for stage_id in job.stageIds if job else []:
                info = tracker.getStageInfo(stage_id)
                if info is None:
                    continue
                done += info.numCompletedTasks
                # a finished job's skipped stages never run: count only what ran
                total += info.numTasks if job.status == "RUNNING" else info.numCompletedTasks
        return f"{done}/{total} tasks in {len(jobs)} Spark job(s)" if total else None

    def _watch(self, name: str, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                line = self._progress_line()
            except Exception:  # noqa: BLE001 - progress is best effort; the JVM may be stopping
                return
            if line:
                log.info("%s: %s (%.0f s)", name, line, time.monotonic() - self._started)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("%s: started", name)
        self._started = start = time.monotonic()
        self._jobs_before = self._job_ids()
        stop = threading.Event()
        watcher = None
        if self.sc is not None:
            watcher = threading.Thread(target=self._watch, args=(name, stop), daemon=True)
            watcher.start()
        try:
            yield
        finally:  # a stage that raised (failure, Ctrl-C) is neither timed nor reported done
            stop.set()
            if watcher:
                watcher.join(timeout=1)
        self.durations[name] = round(time.monotonic() - start, 3)
        log.info("%s: done in %.1f s", name, self.durations[name])
