"""Job metrics with prometheus-client: served by the driver while running (under `run --watch`, from the first poll
to the end), pushed to a Pushgateway during the run (progress, at most every PROGRESS_PUSH_S) and at the end."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry, push_to_gateway, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily, Metric

from .. import __version__

log = logging.getLogger(__name__)

KEYPOINT_BOUNDS: tuple[float, ...] = (0, 5, 10, 20, 50, 100, 200, 500)
OUTCOMES = ("ok", "read", "decode", "features")
PUSH_JOB = "fruit_pipeline"
PROGRESS_PUSH_S = 10.0


@dataclass
class Snapshot:
    """Everything the collector exports; filled in as the run progresses."""

    run_id: str
    input: str
    started_at: float = field(default_factory=time.time)
    images: dict[str, int] = field(default_factory=dict)
    input_files: int = 0
    bytes_read: int = 0
    durations_s: dict[str, float] = field(default_factory=dict)
    images_per_s: float = 0.0
    keypoint_buckets: list[tuple[str, int]] = field(default_factory=list)
    keypoints_sum: float = 0.0
    finished_at: float = 0.0
    failed: str = ""
    progress: dict[str, Any] = field(default_factory=dict)  # stage -> its latest progress.ProgressPoint


def keypoint_buckets(histogram: Mapping[int, int], bounds: Sequence[float] = KEYPOINT_BOUNDS) -> list[tuple[str, int]]:
    """Cumulative Prometheus buckets from a keypoints-per-image histogram (`le` label -> images)."""
    buckets = [(_le(b), sum(n for k, n in histogram.items() if k <= b)) for b in bounds]
    buckets.append(("+Inf", sum(histogram.values())))
    return buckets


def _le(bound: float) -> str:
    return str(float(bound))


class SnapshotCollector:
    """A prometheus-client collector exporting one run's Snapshot under `prefix`."""

    def __init__(self, snapshot: Snapshot, prefix: str) -> None:
        self.s = snapshot
        self.p = prefix

    def _gauge(self, name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> Metric:
        g = GaugeMetricFamily(f"{self.p}_{name}", doc, labels=list(labels or {}))
        g.add_metric(list((labels or {}).values()), value)
        return g

    def _progress(self) -> Iterator[Metric]:
        """Live progress per stage: the numbers of the progress bar/lines (progress.ProgressPoint)."""
        if not self.s.progress:
            return
        families = [("stage_images_done", "Images done in the stage (its share of the work, in images).", "done"),
                    ("stage_images_total", "Images the stage works on.", "total"),
                    ("stage_images_per_second", "Images per second of the stage's wall time so far.", "rate"),
                    ("stage_eta_seconds", "Seconds left in the stage at its rate so far (absent before any progress).",
                     "eta_s")]
        for name, doc, attr in families:
            g = GaugeMetricFamily(f"{self.p}_{name}", doc, labels=["stage"])
            for stage, point in sorted(self.s.progress.items()):
                value = getattr(point, attr)
                if value is not None:
                    g.add_metric([stage], float(value))
            yield g

    def collect(self) -> Iterator[Metric]:
        s, p = self.s, self.p
        info = InfoMetricFamily(f"{p}_run", "The run: version, input, run id.")
        info.add_metric([], {"version": __version__, "input": s.input, "run_id": s.run_id})
        yield info
        yield self._gauge("run_started_timestamp_seconds", "When the run started.", s.started_at)
        yield self._gauge("run_failed", "1 when the run failed, 0 otherwise.", 1.0 if s.failed else 0.0)
        yield from self._progress()
        if s.failed:
            yield self._gauge("last_failure_timestamp_seconds", "When the run failed.", s.finished_at,
                              {"reason": s.failed})
        if not s.images:
            return
        images = CounterMetricFamily(f"{p}_images", "Images by outcome: ok or the failing stage.",
                                   labels=["outcome"])
        for outcome in sorted(set(OUTCOMES) | set(s.images)):
            images.add_metric([outcome], s.images.get(outcome, 0))
        yield images
        yield self._gauge("input_files", "Files found in the input listing.", s.input_files)
        read = CounterMetricFamily(f"{p}_bytes_read", "Bytes of image files read.")
        read.add_metric([], s.bytes_read)
        yield read
        yield self._gauge("images_per_second", "Input files per second of wall time.", s.images_per_s)
        durations = GaugeMetricFamily(f"{p}_stage_duration_seconds", "Wall time per stage.", labels=["stage"])
        for stage, seconds in sorted(s.durations_s.items()):
            durations.add_metric([stage], seconds)
        yield durations
        hist = HistogramMetricFamily(f"{p}_keypoints_per_image", "ORB keypoints per successfully read image.")
        hist.add_metric([], s.keypoint_buckets, sum_value=s.keypoints_sum)
        yield hist
        yield self._gauge("last_success_timestamp_seconds", "When the run finished successfully.", s.finished_at)


class Endpoint:
    """The driver's metrics HTTP endpoint (prometheus-client), exporting the collector last `show`n. A process that
    runs jobs in turn (`run --watch`) keeps one for all of them, so that Prometheus scrapes one target throughout:
    between polls it still exports the last one's metrics."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._shown: SnapshotCollector | None = None
        self._registry = CollectorRegistry()
        self._registry.register(self)
        self._server: Any = None

    def collect(self) -> Iterator[Metric]:
        if self._shown is not None:
            yield from self._shown.collect()

    @property
    def url(self) -> str | None:
        """The loopback URL served, or None when not serving."""
        return f"http://127.0.0.1:{self.port}/metrics" if self._server is not None else None

    def start(self) -> Endpoint:
        """Serve on 0.0.0.0:`port` (nothing with port <= 0); returns self."""
        if self.port > 0 and self._server is None:
            self._server, _ = start_http_server(self.port, addr="0.0.0.0", registry=self._registry)
            print(f"metrics: job {self.url}", file=sys.stderr, flush=True)
        return self

    @property
    def shown(self) -> SnapshotCollector | None:
        return self._shown

    def show(self, collector: SnapshotCollector | None) -> None:
        self._shown = collector

    def close(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class JobMetrics:
    """Lifecycle: started() at the beginning, finished(result, keypoint_histogram) or failed(reason) at the end.
    `endpoint`: a shared `Endpoint` (`run --watch`), else the job serves its own while it runs (with a port)."""

    def __init__(self, cfg: Any, run_id: str, endpoint: Endpoint | None = None) -> None:
        self.cfg = cfg
        self.run_id = run_id
        self.enabled = bool(cfg.metrics.enabled)
        self.registry = CollectorRegistry()
        self.snapshot = Snapshot(run_id=run_id, input=str(cfg.input))
        self.collector = SnapshotCollector(self.snapshot, cfg.metrics.namespace)
        self.registry.register(self.collector)
        self._endpoint = endpoint
        self._own_endpoint = endpoint is None
        self._previous: SnapshotCollector | None = None  # what a shared endpoint showed before this job
        self._ended = False  # finished() or failed() was called
        self._started = time.monotonic()
        self._last_push = 0.0

    def started(self) -> None:
        """Start exporting this job's metrics on the driver's HTTP endpoint, if a port is configured."""
        self._started = time.monotonic()
        if not self.enabled:
            return
        if self._endpoint is None:
            self._endpoint = Endpoint(int(self.cfg.metrics.port or 0)).start()
        self._previous = self._endpoint.shown
        self._endpoint.show(self.collector)

    @property
    def url(self) -> str | None:
        """Where the driver serves this job's metrics now, or None."""
        return self._endpoint.url if self._endpoint is not None else None

    def progress(self, point: Any) -> None:
        """A stage's progress (progress.ProgressPoint): served at once, pushed at most every PROGRESS_PUSH_S and
        always at a stage's end."""
        if not self.enabled:
            return
        self.snapshot.progress[point.stage] = point
        now = time.monotonic()
        if point.done >= point.total or now - self._last_push >= PROGRESS_PUSH_S:
            self._last_push = now
            self._push(quiet=True)

    def finished(self, result: Any, keypoint_histogram: Mapping[int, int]) -> None:
        """Record the run's totals (from aggregates), push to the Pushgateway if configured."""
        if not self.enabled:
            return
        self._ended = True
        s = self.snapshot
        s.images = {"ok": int(result.features_rows), **{k: int(v) for k, v in result.errors_by_stage.items()}}
        s.input_files = int(result.input_files)
        s.bytes_read = int(result.bytes_read)
        s.durations_s = dict(result.durations_s)
        s.images_per_s = result.input_files / max(time.monotonic() - self._started, 1e-9)
        s.keypoint_buckets = keypoint_buckets(keypoint_histogram)
        s.keypoints_sum = sum(k * n for k, n in keypoint_histogram.items())
        s.finished_at = time.time()
        self._push()

    def failed(self, reason: str) -> None:
        """Record a failed run and push it if configured."""
        if not self.enabled:
            return
        self._ended = True
        self.snapshot.failed = reason or "unknown"
        self.snapshot.finished_at = time.time()
        self._push()

    def close(self) -> None:
        """Stop serving. A shared endpoint goes on exporting this job's metrics until the next job's, or, when this
        job neither finished nor failed (a `--watch` poll that found nothing new), the previous job's again."""
        if self._endpoint is None:
            return
        if self._own_endpoint:
            self._endpoint.close()
            self._endpoint = None
        elif not self._ended:
            self._endpoint.show(self._previous)

    def _push(self, quiet: bool = False) -> None:
        url = self.cfg.metrics.pushgateway
        if not url:
            return
        try:
            push_to_gateway(url, job=PUSH_JOB, grouping_key={"run_id": self.run_id}, registry=self.registry)
            if quiet:
                return
            print(f"metrics: pushed to {url} (job={PUSH_JOB}, run_id={self.run_id})", file=sys.stderr, flush=True)
        except (OSError, ValueError) as exc:  # a down or mistyped Pushgateway must not fail a finished run
            (log.debug if quiet else log.warning)("push to %s failed: %s", url, exc)
