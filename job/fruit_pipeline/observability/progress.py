"""Stage timings and live progress (images done/total, rate, ETA) fed from Spark's status tracker.

Nothing is done per row on the driver: every `interval` seconds a watcher thread reads task counts of the Spark
jobs the current stage has started (`SparkContext.statusTracker()`), turns them into a fraction of the stage, and
hands a `ProgressPoint` to the renderer (a tqdm bar on a terminal, periodic log lines otherwise, e.g. a pod's log)
and to any listener (the Prometheus gauges). A stage is a sequence of steps (e.g. reduce = sample, vocabulary,
visual words + PCA, projection); the pipeline says when a step starts, so the fraction follows the work's order
instead of restarting with every Spark job. The fraction is clamped so that it never goes back, and each stage
ends with a point at its total.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from pyspark import SparkContext

log = logging.getLogger("fruit_pipeline.progress")
RUNNING_CAP = 0.99  # a running stage never shows 100 %: only its end does
INTERVAL_S = 10.0  # seconds between two progress points of a running stage


@dataclass(frozen=True)
class Step:
    """One part of a stage; `jobs` is the number of Spark jobs it is expected to run at most (None: unknown)."""

    name: str
    jobs: int | None = None


@dataclass(frozen=True)
class ProgressPoint:
    """Where a stage stands: `done` of `total` images (the stage's share of the work, in images), a rate in
    images/s over the stage's wall time so far, and the seconds left at that rate (None before any progress)."""

    stage: str
    done: int
    total: int
    elapsed_s: float
    rate: float
    eta_s: float | None

    def line(self) -> str:
        eta = "?" if self.eta_s is None else f"{self.eta_s:.0f} s"
        share = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.stage}: {self.done}/{self.total} images ({share:.0f} %), {self.rate:.0f} images/s, "
                f"ETA {eta}, {self.elapsed_s:.0f} s so far")


def point(stage: str, fraction: float, total: int, elapsed_s: float) -> ProgressPoint:
    """The point for a stage `fraction` (0-1) done after `elapsed_s` seconds."""
    done = int(round(total * min(max(fraction, 0.0), 1.0)))
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return ProgressPoint(stage, done, total, round(elapsed_s, 3), rate, eta)


def stage_fraction(steps_done: int, steps: int, step_fraction: float) -> float:
    """Fraction of a stage of `steps` equal steps, `steps_done` of them finished, the current one at
    `step_fraction`; capped below 1 while the stage runs."""
    return min(RUNNING_CAP, (steps_done + min(max(step_fraction, 0.0), 1.0)) / max(steps, 1))


def step_fraction(jobs: Sequence[tuple[bool, int, int]], expected_jobs: int | None) -> float:
    """Fraction of a step from its Spark jobs as (finished, completed tasks, tasks). With an expected job count,
    each job is 1/expected of the step; without one, completed tasks over the tasks known so far."""
    if expected_jobs:
        return min(1.0, sum(1.0 if fin else (d / t if t else 0.0) for fin, d, t in jobs) / expected_jobs)
    done = sum(t if fin else d for fin, d, t in jobs)
    total = sum(t for _fin, _d, t in jobs)
    return done / total if total else 0.0


class Monotone:
    """Keeps the largest fraction seen: progress never goes back, even when a new Spark job adds tasks."""

    def __init__(self) -> None:
        self.best = 0.0

    def __call__(self, fraction: float) -> float:
        self.best = max(self.best, fraction)
        return self.best


class _Renderer:
    """A tqdm bar per stage on a terminal; log lines every `interval` otherwise."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.bar: Any = None

    def open(self, stage: str, total: int) -> None:
        if self.tty and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=stage, unit="img", file=sys.stderr, leave=False, dynamic_ncols=True)

    def show(self, p: ProgressPoint) -> None:
        if self.bar is not None:
            self.bar.update(p.done - self.bar.n)
        else:
            log.info("%s", p.line())

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StageClock:
    """Times named stages and, while one runs, reports its progress every `interval` seconds.

    `total` is the number of images the stages work on (set it once the listing knows it); `listeners` receive
    every ProgressPoint (e.g. JobMetrics.progress for the Prometheus gauges)."""

    def __init__(self, sc: SparkContext | None, interval: float | None = None, total: int = 0,
                 listeners: Sequence[Callable[[ProgressPoint], None]] = (), tty: bool | None = None) -> None:
        self.sc = sc
        self.interval = INTERVAL_S if interval is None else interval
        self.total = total
        self.listeners = list(listeners)
        self.durations: dict[str, float] = {}
        self.points: list[ProgressPoint] = []
        self._renderer = _Renderer(sys.stderr.isatty() if tty is None else tty)
        self._lock = threading.Lock()
        self._steps: list[Step] = [Step("all")]
        self._step = 0
        self._step_jobs_before: set[int] = set()
        self._monotone = Monotone()
        self._stage = ""
        self._started = 0.0

    def _job_ids(self) -> set[int]:
        return set(self.sc.statusTracker().getJobIdsForGroup()) if self.sc is not None else set()

    def _jobs(self, job_ids: set[int]) -> list[tuple[bool, int, int]]:
        """(finished, completed tasks, tasks) of each job; a finished job's skipped stages never run."""
        tracker = self.sc.statusTracker()
        out = []
        for job_id in sorted(job_ids):
            job = tracker.getJobInfo(job_id)
            if job is None:
                continue
            finished = job.status != "RUNNING"
            done = total = 0
            for stage_id in job.stageIds:
                info = tracker.getStageInfo(stage_id)
                if info is not None:
                    done += info.numCompletedTasks
                    total += info.numCompletedTasks if finished else info.numTasks
            out.append((finished, done, total))
        return out

    def _fraction(self) -> float:
        with self._lock:
            step, index, before = self._steps[self._step], self._step, self._step_jobs_before
        within = step_fraction(self._jobs(self._job_ids() - before), step.jobs) if self.sc is not None else 0.0
        return self._monotone(stage_fraction(index, len(self._steps), within))

    def _emit(self, fraction: float) -> None:
        p = point(self._stage, fraction, self.total, time.monotonic() - self._started)
        self.points.append(p)
        self._renderer.show(p)
        for listener in self.listeners:
            try:
                listener(p)
            except Exception as exc:  # noqa: BLE001 - a listener (e.g. an unreachable Pushgateway) must not stop the run
                log.debug("progress listener failed: %s", exc)

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                fraction = self._fraction()
            except Exception:  # noqa: BLE001 - progress is best effort; the JVM may be stopping
                return
            if fraction > 0 or not self._renderer.tty:
                self._emit(fraction)

    def step(self, name: str) -> None:
        """The current stage moves on to its step `name` (one of the `steps` it was opened with)."""
        with self._lock:
            names = [s.name for s in self._steps]
            self._step = names.index(name)
            self._step_jobs_before = self._job_ids()

    @contextmanager
    def stage(self, name: str, steps: Sequence[Step] = ()) -> Iterator[None]:
        log.info("%s: started", name)
        self._stage, self._started = name, time.monotonic()
        with self._lock:
            self._steps, self._step, self._monotone = list(steps) or [Step(name)], 0, Monotone()
            self._step_jobs_before = self._job_ids()
        stop = threading.Event()
        watcher = None
        if self.sc is not None and self.total:
            self._renderer.open(name, self.total)
            watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
            watcher.start()
        try:
            yield
        finally:  # a stage that raised (failure, Ctrl-C) is neither timed nor reported done
            stop.set()
            if watcher:
                watcher.join(timeout=1)
            self._renderer.close()
        self.durations[name] = round(time.monotonic() - self._started, 3)
        if watcher:
            self._emit(1.0)
        log.info("%s: done in %.1f s", name, self.durations[name])
