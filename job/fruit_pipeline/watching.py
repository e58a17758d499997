"""`run --mode append --watch SECONDS`: one SparkSession that appends the bank's new and changed files every
SECONDS, until SIGTERM.

Each poll is a whole `run --mode append` (`appending.run_append`): the output's lock, the comparison, one Delta
commit per batch, a run-log entry, the report. A poll that finds nothing to extract (or, with --prune, to delete)
commits and writes nothing. Keeping the session between polls saves what every cold append pays again: the JVM's
start, Delta's first use and the Python workers' imports (`benchmarks/append.py` measures both). What a poll
leaves known (`appending.Memory`: the models, what the tables record of each path, the report's digest) spares the
next poll reading the tables, as long as their Delta versions are still those the poll committed. The driver's
metrics endpoint (with a port) is served from the first poll to the end, exporting the last poll's metrics.
SIGTERM (a pod being deleted) ends the watch after the current poll, with exit 0; Ctrl-C interrupts it like any
run (exit 130; the batches committed so far stay, a rerun redoes the rest). A failed poll ends the watch with its
error, so that the pod's restart policy, not this loop, decides what happens next.
"""

from __future__ import annotations

import itertools
import logging
import signal
import threading
import time
from typing import Any, Callable

from pyspark.sql import SparkSession

from . import pipeline
from .appending import Memory
from .config import PipelineConfig
from .observability.metrics import Endpoint
from .stages.session import build_session

log = logging.getLogger(__name__)


def _stop_on_sigterm(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM set `stop` (main thread only); returns the function that puts the old handler back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    return lambda: signal.signal(signal.SIGTERM, previous)


def watch(cfg: PipelineConfig, spark: SparkSession | None = None, polls: int | None = None,
          on_increment: Callable[[dict[str, Any]], None] | None = None,
          after_poll: Callable[[int], None] | None = None, overwrite: bool = False) -> int:
    """Poll the bank every `cfg.increment.watch_s` seconds and append what changed; returns the increments committed.

    `spark`: the session to use (default: built here, and stopped at the end or on failure). `polls`: stop after
    that many polls (default: until SIGTERM). `on_increment` gets each committed increment's manifest;
    `after_poll` gets the poll's number after each poll (tests add files there). `overwrite`: as `run --overwrite`."""
    stop = threading.Event()
    restore = _stop_on_sigterm(stop)
    session = spark or build_session(cfg)
    committed = 0
    memory = Memory()
    endpoint = Endpoint(cfg.metrics.port if cfg.metrics.enabled else 0).start()
    try:
        for poll in itertools.count(1):
            started = time.monotonic()
            manifest = pipeline.run(cfg, session, overwrite=overwrite, owns_spark=spark is None,
                                    memory=memory, endpoint=endpoint)
            if manifest is not None:
                committed += 1
                increment = manifest["increment"]
                log.info("watch: poll %d committed increment %s (%d new, %d changed, %d pruned row(s)) in %.1f s",
                         poll, manifest["run_id"], increment["new"], increment["changed"], increment["pruned_rows"],
                         time.monotonic() - started)
                if on_increment is not None:
                    on_increment(manifest)
            if after_poll is not None:
                after_poll(poll)
            if (polls is not None and poll >= polls) or stop.wait(cfg.increment.watch_s):
                break
        log.info("watch: stopped after %d poll(s), %d increment(s) committed", poll, committed)
        return committed
    finally:
        restore()
        endpoint.close()
        if spark is None:
            session.stop()
