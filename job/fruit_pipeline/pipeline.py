"""The job, top-down: list -> extract -> (reduce, evaluate) -> write -> manifest."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from .bank_files import Skips
from .config import PipelineConfig, to_dict
from .errors import PipelineError
from .imaging.labels import no_training_message
from .observability import cost, report_samples
from .observability.metrics import Endpoint, JobMetrics
from .observability.progress import StageClock, Step
from .observability.report import library_versions, redact
from .observability.spark_status import spark_status
from .observability.report_plots import keypoint_bins, write_report
from .observability.report_digest import ReportDigest
from .observability.report_samples import first_errors
from .stages import accounting, evaluation, extraction, feature_table, file_rows, fs, listing, reduction, writing
from .stages.output_guard import OutputGuard
from .stages.session import build_session

if TYPE_CHECKING:
    from . import appending

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run measured; the manifest and the metrics are built from it."""

    run_id: str
    input_files: int = 0
    features_rows: int = 0
    error_rows: int = 0
    errors_by_stage: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    keypoints_total: int = 0
    durations_s: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    errors_sample: list[dict[str, str]] = field(default_factory=list)
    reduction: dict[str, Any] = field(default_factory=dict)
    spark_status: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    digest: ReportDigest | None = None  # what the report read; not in the manifest (`--watch` keeps it)


def _new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@dataclass
class Listed:
    """The bank as listed: its binaryFile DataFrame (no content read yet), the files in Spark's file index, the
    files skipped with their reasons, and the first folder of each image's path."""

    bank: DataFrame
    indexed: int
    skips: Skips
    top_folders: set[str]
    images: list[str]  # the image files' paths, as the scans' `path` column writes them


def _list(spark: SparkSession, cfg: PipelineConfig, clock: StageClock,
          after_listing: Callable[[], None] | None = None) -> Listed:
    with clock.stage("list"):
        bank = listing.load_images(spark, cfg.input)  # lists the files once, on the driver
        n_indexed = listing.indexed_file_count(bank)
        found = listing.survey(spark, cfg.input)
        if n_indexed == 0:
            skipped = found.skips.summary()
            raise PipelineError(f"no .jpg/.jpeg/.png files under {cfg.input}" + (f"; {skipped}" if skipped else ""))
        skips = listing.reconcile(spark, bank, found, n_indexed)
    clock.total = n_indexed
    if after_listing is not None:
        after_listing()
    return Listed(bank, n_indexed, skips, found.top_folders, list(found.images))


def _write_features(spark: SparkSession, features: DataFrame, listed: Listed, staging: str,
                    side_writes: list[Callable[[], None]]) -> None:
    """The features table; `side_writes` (small: the models, an empty errors table) run in a second thread
    meanwhile, their few short Spark jobs overlapping the large one's."""
    with ThreadPoolExecutor(max_workers=1) as side:
        pending = [side.submit(write) for write in side_writes]
        feature_table.write(feature_table.with_source(features, listed.bank), staging, feature_table.FEATURES)
        for write in pending:
            write.result()


def _no_errors(spark: SparkSession, cfg: PipelineConfig, staging: str) -> None:
    feature_table.write(file_rows.no_errors(spark, cfg.extraction), staging, feature_table.ERRORS)


def _write_errors(spark: SparkSession, cfg: PipelineConfig, listed: Listed, staging: str) -> accounting.Tally:
    """The errors table: every indexed file the features table does not hold, read again for its reason (empty,
    too large, undecodable, no keypoints, vanished); on a clean bank an empty table. Returns both tables' tally."""
    written = accounting.table_tally(spark, staging, errors=False)
    if written.rows == listed.indexed:
        _no_errors(spark, cfg, staging)
        return written
    features = feature_table.read(spark, staging, feature_table.FEATURES)
    failed = [r["path"] for r in listing.indexed_paths(spark, listed.bank)
              .join(features.select("path"), "path", "left_anti").collect()]
    log.warning("%d listed file(s) gave no feature row: see errors/", len(failed))
    rows = file_rows.rows_of(spark, cfg.input, failed, cfg.extraction)
    errors = rows.errors
    if rows.feature_rows:
        errors = errors.unionByName(accounting.changed_during_run(rows.features))
    feature_table.write(errors, staging, feature_table.ERRORS)
    rows.unpersist()
    return written.plus(accounting.table_tally(spark, staging, features=False))


def _count(result: RunResult, listed: Listed, tally: accounting.Tally) -> None:
    """Counts for the manifest and metrics, from the written tables' tally; every listed file must be in one."""
    result.input_files = listed.indexed + listed.skips.image_files
    result.skipped = listed.skips.as_dict()
    result.warnings = accounting.label_warnings(tally)
    for warning in result.warnings:
        log.warning("%s", warning)
    if listed.skips.files:
        log.info("%s", listed.skips.summary())
    result.features_rows = tally.feature_rows
    result.keypoints_total = tally.keypoints_total
    result.errors_by_stage = tally.errors_by_stage()
    result.bytes_read = tally.file_bytes
    result.error_rows = sum(result.errors_by_stage.values())
    if result.features_rows + result.error_rows + listed.skips.image_files != result.input_files:
        raise PipelineError(f"accounting mismatch: {result.input_files} image files listed, {result.features_rows} "
                            f"feature rows + {result.error_rows} error rows written + {listed.skips.image_files} "
                            "skipped")


def manifest_for(cfg: PipelineConfig, result: RunResult, spark: SparkSession, started: float) -> dict[str, Any]:
    elapsed = max(time.monotonic() - started, 1e-9)
    params = redact(to_dict(cfg))
    return {
        "run_id": result.run_id,
        "status": "succeeded",
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": cfg.input,
        "output": cfg.output,
        "counts": {"input_files": result.input_files, "features_rows": result.features_rows,
                   "error_rows": result.error_rows},
        "errors_by_stage": result.errors_by_stage,
        "skipped": result.skipped,
        "warnings": result.warnings,
        "bytes_read": result.bytes_read,
        "keypoints_total": result.keypoints_total,
        "parameters": params,
        "versions": library_versions(),
        "spark": {"master": spark.sparkContext.master, "application_id": spark.sparkContext.applicationId,
                  "default_parallelism": spark.sparkContext.defaultParallelism},
        "durations_s": result.durations_s,
        "wall_time_s": round(elapsed, 3),
        "images_per_s": round(result.input_files / elapsed, 1),
        "errors_sample": result.errors_sample,
        "reduction": result.reduction,
        "evaluation": result.evaluation,
        "spark_status": result.spark_status,
    }


def run(cfg: PipelineConfig, spark: SparkSession | None = None, models_uri: str | None = None,
        after_listing: Callable[[], None] | None = None, overwrite: bool = False,
        before_spark: Callable[[], None] | None = None, owns_spark: bool = False,
        memory: appending.Memory | None = None, endpoint: Endpoint | None = None) -> dict[str, Any] | None:
    """Run the whole job (or, with `models_uri`, apply saved models); returns the manifest (also written), or None
    for a `--watch` poll that found nothing to append.

    The output is checked and locked before Spark starts (`output_guard`); refusals raise UsageError.
    `before_spark` is called once the output is claimed (the CLI sends Spark's log to a file there).
    `after_listing` is called once between listing and reading (tests use it to delete a listed object).
    `owns_spark`: the given `spark` is the caller's own for this job (`--watch`), stopped on failure like a session
    built here. `memory`: what the last poll of `--watch` left known (`appending.Memory`); `endpoint`: the metrics
    endpoint the polls share."""
    result = RunResult(run_id=_new_run_id())
    guard = OutputGuard.claim(cfg, result.run_id, overwrite, models_uri)
    if before_spark is not None:
        before_spark()
    metrics = JobMetrics(cfg, result.run_id, endpoint)
    session = spark
    owned = owns_spark or (spark is None and SparkSession.getActiveSession() is None)  # the run's own session
    try:
        metrics.started()
        session = spark or build_session(cfg)
        if cfg.increment.mode == "append" and not models_uri:
            from .appending import run_append
            return run_append(cfg, session, result, metrics, guard, memory)
        return _run(cfg, session, result, metrics, guard, models_uri, after_listing)
    except BaseException as exc:
        metrics.failed(type(exc).__name__)
        if session is not None:
            _end_tasks(session)
            if owned:  # the run's own session (the CLI's): stopped, so that no task of it can write any more
                session.stop()
        raise
    finally:
        try:
            metrics.close()
        finally:
            guard.close()


TASK_THREAD = "Executor task launch worker"  # the name prefix of Spark's task threads


def _busy_task_threads(spark: SparkSession) -> int:
    """Task threads of this JVM that are not parked idle in the executor's pool (local mode: the tasks themselves)."""
    threads = spark.sparkContext._jvm.java.lang.Thread.getAllStackTraces().keySet().toArray()
    return sum(1 for t in threads if t.getName().startswith(TASK_THREAD)
               and t.getState().toString() not in ("WAITING", "TIMED_WAITING"))


def _end_tasks(spark: SparkSession, timeout_s: float = 60.0) -> None:
    """After a failure or Ctrl-C, before the staging folder is removed: cancel Spark's jobs and wait until their
    tasks have ended (a killed write task can still finish its file after the cancel returns, and the scheduler may
    forget it before its thread ends), so none writes into the folder later."""
    try:
        spark.sparkContext.cancelAllJobs()
        tracker = spark.sparkContext._jsc.sc().statusTracker()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (any(e.numRunningTasks() for e in tracker.getExecutorInfos())
                                               or _busy_task_threads(spark)):
            time.sleep(0.2)
    except Exception:  # noqa: BLE001 - the JVM is gone: nothing writes any more
        log.debug("Spark already stopped", exc_info=True)


def _fit(spark: SparkSession, cfg: PipelineConfig, listed: Listed, clock: StageClock,
         cached: DataFrame | None) -> reduction.Models:
    """The "reduce" stage: fit the vocabulary and PCA on the fit sample (`reduction.fit_sample`), read from the
    `cached` extraction when there is one, else extracted here (cached while fitting). Nothing is left cached."""
    steps = reduction.fit_steps(cfg.reduction)
    with clock.stage("reduce", steps if cached is not None else [Step("extract the fit sample", 2), *steps]):
        sample = reduction.fit_sample(listed.images, cfg.reduction.fit_images, cfg.reduction.seed)
        if not sample:
            raise PipelineError(no_training_message(listed.top_folders))
        rows = file_rows.rows_of(spark, cfg.input, sample, cfg.extraction) if cached is None else None
        if rows is not None:
            training = extraction.feature_rows(rows.extracted)
        else:
            training = reduction.sample_rows(extraction.feature_rows(cached), sample)
        try:
            return reduction.fit(training, cfg.reduction, cfg.extraction, clock.step)
        except reduction.NoTrainingImages:
            raise PipelineError(no_training_message(listed.top_folders)) from None
        finally:
            if rows is not None:
                rows.unpersist()


def _executors(spark: SparkSession) -> int:
    """Executors registered now (the driver's block manager excluded; 0 in local mode)."""
    return max(0, spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1)


def _report(spark: SparkSession, cfg: PipelineConfig, tally: accounting.Tally, result: RunResult, target: str,
            elapsed_s: float, digest: Callable[[], ReportDigest]) -> None:
    """Draw the report (`observability.report_plots`) into TARGET/report; `digest()` returns what `finish` reads
    from the features table meanwhile (called once the plots that need no read are drawn)."""
    import tempfile

    aggregates = {"class_counts": tally.class_counts(), "keypoint_buckets": keypoint_bins(tally.keypoint_histogram),
                  "scatter": lambda: digest().scatter_points(),
                  "notes": accounting.report_notes(result.warnings, result.skipped, result.evaluation)}
    run_facts = {"counts": {"input files": result.input_files, "feature rows": result.features_rows,
                            "error rows": result.error_rows, **{f"errors at {k}": v
                                                                for k, v in sorted(result.errors_by_stage.items())}},
                 "errors": result.errors_sample, "durations_s": dict(result.durations_s),
                 "parameters": redact(to_dict(cfg)),
                 "cost": cost.report_text(result.input_files, elapsed_s, _executors(spark))}
    with tempfile.TemporaryDirectory() as tmp:
        write_report(Path(tmp), aggregates, result.reduction.get("explained_variance", []), result.evaluation,
                     f"fruit-pipeline run {result.run_id}", run_facts, lambda: digest().samples())
        fs.copy_from_local(spark, tmp, fs.join(target, "report"))


def _no_evaluation_reason(cfg: PipelineConfig, models_uri: str | None) -> str:
    if models_uri:
        return "transform applies saved models; it does not evaluate"
    if not cfg.reduction.enabled:
        return "turned off with the reduction (--no-reduction)"
    return "turned off (--no-evaluation)"


def _run(cfg: PipelineConfig, spark: SparkSession, result: RunResult, metrics: JobMetrics, guard: OutputGuard,
         models_uri: str | None, after_listing: Callable[[], None] | None = None) -> dict[str, Any]:
    started = time.monotonic()
    clock = StageClock(spark.sparkContext, listeners=[metrics.progress])
    log.info("run %s: %s -> %s", result.run_id, cfg.input, cfg.output)
    models = reduction.Models.load(models_uri, spark) if models_uri else None
    if models is not None:  # extract exactly as the run that fitted the models did
        cfg = dataclasses.replace(cfg, extraction=models.extraction)
    staging = guard.staging_uri  # everything is written here, then committed into cfg.output at the end
    listed = _list(spark, cfg, clock, after_listing)
    fitting = models is None and cfg.reduction.enabled
    extracted = extraction.extract(listed.bank, cfg.extraction)
    cached = fitting and listed.indexed <= cfg.reduction.cached_fit_max_images
    known: accounting.Tally | None = None  # the cached extraction's tally: a clean bank's errors are known early
    if cached:  # a small bank: extracted once, the fit reads its sample from the cache, the write reads the rest
        with clock.stage("extract", [Step("extract", 1)]):
            extracted = extracted.persist(StorageLevel.MEMORY_AND_DISK)
            known = accounting.tally(extracted)  # also fills the cache
    fitted = _fit(spark, cfg, listed, clock, extracted if cached else None) if fitting else None
    models = models or fitted
    if models is not None:
        result.reduction = models.facts(cfg.reduction.pca_components, models_uri or writing.models_uri(cfg.output))
    # Unless cached above, this is the single pass over the bank: decode, ORB, colour and the projection run inside
    # the features write.
    features = extraction.feature_rows(extracted)
    features = reduction.transform(features, models) if models is not None else features
    clean = known is not None and known.feature_rows == listed.indexed
    side_writes = [partial(fitted.save, writing.models_uri(staging), spark)] if fitted is not None else []
    if clean:
        side_writes.append(partial(_no_errors, spark, cfg, staging))
    features_step, errors_step = Step("features", 12), Step("errors", 6)
    with clock.stage("write" if cached else "extract", [features_step, errors_step] if cached else [features_step]):
        _write_features(spark, features, listed, staging, side_writes)
        if cached:
            clock.step(errors_step.name)
            tally = known if clean else _write_errors(spark, cfg, listed, staging)
    extracted.unpersist()
    if not cached:
        with clock.stage("write", [errors_step]):
            tally = _write_errors(spark, cfg, listed, staging)
    _count(result, listed, tally)
    if result.error_rows:  # a Delta snapshot and a scan saved on clean banks
        result.errors_sample = first_errors(feature_table.read(spark, staging, feature_table.ERRORS))
    features = feature_table.read(spark, staging, feature_table.FEATURES)
    if models is not None and not models_uri and cfg.evaluation.enabled:
        with clock.stage("evaluate", evaluation.steps(cfg.evaluation)):
            result.evaluation = evaluation.evaluate(features, cfg.evaluation, clock.step)
    else:
        result.evaluation = {"skipped": _no_evaluation_reason(cfg, models_uri)}
    if "skipped" in result.evaluation:
        log.warning("evaluation skipped: %s", result.evaluation["skipped"])
    return finish(spark, cfg, result, clock, guard, metrics, started, features, lambda: tally)


def finish(spark: SparkSession, cfg: PipelineConfig, result: RunResult, clock: StageClock, guard: OutputGuard,
           metrics: JobMetrics, started: float, features: DataFrame | None, tally: Callable[[], accounting.Tally],
           log_entry: Callable[[], dict[str, Any]] | None = None, in_place: bool = False,
           known: ReportDigest | None = None) -> dict[str, Any]:
    """The end every run shares: the "report" stage (`tally()` counts the rows first, inside it), the manifest
    (plus `log_entry()`'s entries), the commit (`in_place`: the append's tables are already committed), the
    metrics. Returns the manifest. The report's digest of the tables (`result.digest`) is `known` when the caller
    has it (an increment merged into the last one's), else read from `features`: the tally, those reads and
    `log_entry()` run side by side, each a few short Spark jobs, mostly waiting on the driver, not on the cores."""
    with clock.stage("report"), ThreadPoolExecutor(max_workers=3) as pool:
        if known is None:
            scatter = pool.submit(report_samples.scatter_rows, features, cfg.evaluation.scatter_points,
                                  cfg.reduction.seed)
            samples = pool.submit(report_samples.samples_of, spark, features, cfg.reduction.seed)
        entry = pool.submit(log_entry) if log_entry is not None else None
        counted = tally()
        result.durations_s = dict(clock.durations)

        @cache
        def digest() -> ReportDigest:
            if known is not None:
                return known
            return ReportDigest(counted, scatter.result(), *samples.result(), result.errors_sample)

        _report(spark, cfg, counted, result, guard.staging_uri, time.monotonic() - started, digest)
        result.digest = digest()
    result.durations_s = clock.durations
    result.spark_status = spark_status(spark.sparkContext)
    manifest = manifest_for(cfg, result, spark, started)
    if entry is not None:
        manifest.update(entry.result())
    manifest = guard.commit(manifest, in_place=in_place)
    metrics.finished(result, counted.keypoint_histogram)
    return manifest
