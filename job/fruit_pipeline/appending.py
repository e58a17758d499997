"""`run --mode append`: extract only the bank's new and changed files and MERGE them into the Delta tables.

The bank is listed and compared with the tables by (path, size, modification time) (`stages/increment`). New and
changed files are extracted in batches of `increment.batch_files`; each batch is one MERGE into `features` and one
into `errors`, so a killed append keeps every batch it committed and a rerun of the same command redoes only the
rest. With saved models (OUT/models) the new rows are projected with them; without models, or with `--refit`, the
models are fitted on every Training row of the table and every reduced vector is rewritten (one overwrite commit).
The run's lock (`output_guard`) is held throughout: a second writer is refused before it touches anything.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from .config import PipelineConfig
from .errors import PipelineError
from .observability.metrics import JobMetrics
from .observability import report_samples
from .observability.progress import StageClock
from .observability.report_digest import ReportDigest
from .observability.report_samples import first_errors
from .stages import accounting, evaluation, feature_table, file_rows, fs, increment, listing, reduction, writing
from .stages.feature_table import ERRORS, FEATURES
from .stages.output_guard import OutputGuard

log = logging.getLogger(__name__)
REDUCED_COLUMNS = ("bovw", "features")


def saved_models(spark: SparkSession, output: str) -> reduction.Models | None:
    """The models an earlier run saved in OUTPUT/models, or None when there are none."""
    uri = writing.models_uri(output)
    if not fs.exists(spark, fs.join(uri, "extraction.json")):
        return None
    return reduction.Models.load(uri, spark)


def _commit_batch(spark: SparkSession, output: str, paths: list[str], batch: file_rows.FileRows,
                  replace: bool) -> None:
    """Two Delta commits: features, then errors. New paths (`replace` False: in neither table) are a plain insert
    per table, skipped when it has no rows. Changed paths are a MERGE per table that replaces their rows and drops
    those that moved to the other table. A kill between the two commits leaves the errors of new paths absent from
    both tables (a rerun extracts them again) and changed paths in both tables (a rerun redoes them)."""
    if not replace:
        if batch.feature_rows:
            feature_table.append(spark, output, FEATURES, batch.features)
        if batch.error_rows:
            feature_table.append(spark, output, ERRORS, batch.errors)
        return
    feature_paths = batch.feature_paths()
    feature_table.merge(spark, output, FEATURES, batch.features, sorted(set(paths) - feature_paths))
    feature_table.merge(spark, output, ERRORS, batch.errors, sorted(feature_paths))


def _refit(spark: SparkSession, cfg: PipelineConfig, staging: str, bank: list[str]) -> reduction.Models:
    """Fit on the table's rows of the fit sample of the bank's paths `bank` (the images an overwrite run on this
    bank fits on), then rewrite every reduced vector (one overwrite commit)."""
    table = feature_table.read(spark, cfg.output, FEATURES)
    raw = table.drop(*[c for c in REDUCED_COLUMNS if c in table.columns])
    chosen = reduction.fit_sample(bank, cfg.reduction.fit_images, cfg.reduction.seed)
    models = reduction.fit(reduction.sample_rows(raw, chosen), cfg.reduction, cfg.extraction)
    reduced = reduction.transform(raw, models).persist(StorageLevel.MEMORY_AND_DISK)
    reduced.count()  # fully computed from the current version before it is replaced
    feature_table.write(reduced, cfg.output, FEATURES)
    reduced.unpersist()
    models.save(writing.models_uri(staging), spark)
    return models


def _count(result: Any, found: listing.Survey, changes: increment.Changes, tally: accounting.Tally,
           errors_sample: list[dict[str, str]]) -> accounting.Tally:
    """The run's counts set in `result` from the whole tables' `tally`; returns it."""
    result.input_files = len(found.stats) + found.skips.image_files
    result.skipped = found.skips.as_dict()
    result.features_rows = tally.feature_rows
    result.errors_by_stage = tally.errors_by_stage()
    result.error_rows = sum(result.errors_by_stage.values())
    result.keypoints_total = tally.keypoints_total
    result.bytes_read = changes.extract_bytes
    result.errors_sample = errors_sample
    return tally


def _tables_tally(spark: SparkSession, output: str) -> tuple[accounting.Tally, list[dict[str, str]]]:
    """(the whole tables' tally, their first error rows), read from them (small columns only)."""
    tally = accounting.table_tally(spark, output)
    errors = first_errors(feature_table.read(spark, output, ERRORS)) if tally.errors_by_stage() else []
    return tally, errors


def _versions(spark: SparkSession, output: str) -> dict[str, int | None]:
    return {name: feature_table.version(spark, output, name) for name in (FEATURES, ERRORS)}


def _survey(spark: SparkSession, cfg: PipelineConfig) -> listing.Survey:
    """The bank, walked as the overwrite run surveys it (the same skip rules; 0-byte files included)."""
    found = listing.survey_input(spark, cfg.input, stats=True)
    if not found.stats:
        skipped = found.skips.summary()
        raise PipelineError(f"no .jpg/.jpeg/.png files under {cfg.input}" + (f"; {skipped}" if skipped else ""))
    return found


@dataclass
class Known:
    """What an append leaves known about the tables, valid while they stay at `versions`: the models, what the
    tables record of each path, and the report's digest."""

    versions: dict[str, int | None]
    models: reduction.Models | None
    recorded: increment.Recorded
    digest: ReportDigest


@dataclass
class Memory:
    """Carries `Known` from one poll of `--watch` to the next (in the driver's memory only)."""

    known: Known | None = None

    def take(self, spark: SparkSession, output: str) -> Known | None:
        """The last poll's `Known` if the tables are still at its versions (no other writer since), else None.
        Either way it is taken: a poll that fails leaves nothing behind."""
        known, self.known = self.known, None
        if known is not None and _versions(spark, output) != known.versions:
            log.info("watch: the tables changed since the last poll: they are read again")
            return None
        return known


def _inserted(spark: SparkSession, cfg: PipelineConfig, batch: file_rows.FileRows) -> ReportDigest:
    """The report's digest of the rows of `batch` (no pictures), read from its cache: four short Spark jobs,
    side by side."""
    points, seed = cfg.evaluation.scatter_points, cfg.reduction.seed
    with ThreadPoolExecutor(max_workers=3) as pool:
        scatter = pool.submit(report_samples.scatter_rows, batch.features, points, seed)
        ranked = pool.submit(report_samples.ranked_rows, batch.features, seed)
        errors = pool.submit(first_errors, batch.errors) if batch.error_rows else None
        tally = accounting.tally_of(batch.features, batch.errors)
        return ReportDigest(tally, scatter.result(), ranked.result(), {}, errors.result() if errors else [])


def _remember(spark: SparkSession, cfg: PipelineConfig, batch: file_rows.FileRows, recorded: increment.Recorded,
              digest: ReportDigest | None) -> ReportDigest | None:
    """After `batch` is committed: add its rows to `recorded`, and return `digest` plus the rows it inserted, with
    the pictures of the rows it newly shows (None stays None)."""
    with ThreadPoolExecutor(max_workers=1) as side:
        rows = side.submit(feature_table.recorded_of, [batch.features, batch.errors])
        if digest is not None:
            digest = digest.plus(_inserted(spark, cfg, batch), cfg.evaluation.scatter_points)
            digest.pictures.update(report_samples.pictures(spark, batch.features, digest.missing_pictures()))
        recorded.update(rows.result())
    return digest


def _evaluation_skipped(cfg: PipelineConfig, models: reduction.Models | None, refitted: bool) -> str | None:
    """Why the append does not evaluate, or None when it does."""
    if models is None:
        return "no models (--no-reduction)"
    if not cfg.evaluation.enabled:
        return "turned off (--no-evaluation)"
    if not refitted and not cfg.increment.evaluate:
        return "append without --refit: the models did not change; use --evaluate to evaluate the whole table"
    return None


def _compare(spark: SparkSession, cfg: PipelineConfig, clock: StageClock, known: Known | None
             ) -> tuple[listing.Survey, increment.Recorded, increment.Changes, reduction.Models | None]:
    """The "list" stage: (the bank's survey, what the tables record, the bank against them, the models to use),
    from `known` when given, else read from the output (the models in a second thread, overlapping the walk)."""
    reuse_models = not cfg.increment.refit and cfg.reduction.enabled  # the saved models, not a refit
    with ThreadPoolExecutor(max_workers=1) as side:
        loading = side.submit(saved_models, spark, cfg.output) if reuse_models and known is None else None
        with clock.stage("list"):
            found = _survey(spark, cfg)
            recorded = known.recorded if known is not None else feature_table.recorded(spark, cfg.output)
            changes = increment.compare(found.stats, recorded)
        if loading is not None:
            return found, recorded, changes, loading.result()
    return found, recorded, changes, known.models if known is not None and reuse_models else None


def _extract(spark: SparkSession, cfg: PipelineConfig, todo: list[tuple[list[str], bool]],
             models: reduction.Models | None, unscanned: set[str], recorded: increment.Recorded | None,
             digest: ReportDigest | None) -> ReportDigest | None:
    """Extract and commit the batches `todo` (`increment.plan`); with `recorded` (`--watch`), each batch's rows are
    added to it and to `digest` (`_remember`), which is returned."""
    for number, (paths, replace) in enumerate(todo, 1):
        batch = file_rows.rows_of(spark, cfg.input, paths, cfg.extraction, models, unscanned)
        _commit_batch(spark, cfg.output, paths, batch, replace)
        if recorded is not None:
            digest = _remember(spark, cfg, batch, recorded, digest)
        batch.unpersist()
        log.info("append: batch %d/%d committed (%d file(s), %s)", number, len(todo), len(paths),
                 "MERGE: changed files" if replace else "insert: new files")
    return digest


def run_append(cfg: PipelineConfig, spark: SparkSession, result: Any, metrics: JobMetrics,
               guard: OutputGuard, memory: Memory | None = None) -> dict[str, Any] | None:
    """The append run (see the module docstring); returns the manifest (also written, last). A poll of `--watch`
    that finds nothing to extract or prune commits nothing and returns None. `memory` (`--watch`): what the last
    poll left known, so that this poll reads neither the models nor the tables when they are unchanged; an increment
    of new files only then merges its rows into the report's digest instead of reading the tables again."""
    from .pipeline import finish

    started = time.monotonic()
    clock = StageClock(spark.sparkContext, listeners=[metrics.progress])
    inc = cfg.increment
    log.info("append %s: %s -> %s", result.run_id, cfg.input, cfg.output)
    guard.own_tables()
    known = memory.take(spark, cfg.output) if memory is not None else None
    found, recorded, changes, models = _compare(spark, cfg, clock, known)
    if models is not None:  # extract exactly as the run that fitted the models did
        cfg = dataclasses.replace(cfg, extraction=models.extraction)
    clock.total = len(found.stats)
    counts = changes.counts()
    todo = increment.plan(changes, inc.batch_files)
    pruning = inc.prune and bool(changes.deleted)
    if inc.watch_s and not todo and not pruning:
        log.info("watch: nothing new (%(unchanged)d unchanged, %(deleted)d deleted file(s) kept): no increment",
                 counts)
        if memory is not None:
            memory.known = known
        return None
    log.info("append: %(new)d new, %(changed)d changed, %(deleted)d deleted, %(unchanged)d unchanged file(s)", counts)
    if changes.deleted and not inc.prune:
        log.warning("%d file(s) in the tables are no longer in the bank (kept; --prune removes them)",
                    len(changes.deleted))
    refitting = cfg.reduction.enabled and models is None  # every reduced vector is rewritten
    # the report's digest follows the increment when it only inserts rows into tables it knows
    digest = known.digest if known is not None and not (changes.changed or pruning or refitting) else None
    if digest is not None:
        log.info("append: the report's digest follows the increment's rows (the tables are not read again)")
    with clock.stage("extract"):
        digest = _extract(spark, cfg, todo, models, set(changes.unscanned),
                          recorded if memory is not None else None, digest)
    pruned = 0
    if pruning:
        pruned = feature_table.delete_paths(spark, cfg.output, changes.deleted)
        for path in changes.deleted:
            recorded.pop(path, None)
        log.info("append: pruned %d row(s) of %d deleted file(s)", pruned, len(changes.deleted))
    models_uri = writing.models_uri(cfg.output)
    if refitting:
        with clock.stage("reduce"):
            models = _refit(spark, cfg, guard.staging_uri, [path for path, _size, _ms in found.stats])
    if models is not None:
        result.reduction = models.facts(cfg.reduction.pca_components, models_uri)
    skipped = _evaluation_skipped(cfg, models, refitting)
    # evaluation + report: every column but the descriptors (the largest, which neither reads)
    table = None
    if skipped is None or digest is None:
        table = feature_table.read(spark, cfg.output, FEATURES).drop("descriptors")
    if skipped is None:
        table = table.persist(StorageLevel.MEMORY_AND_DISK)
        with clock.stage("evaluate"):
            result.evaluation = evaluation.evaluate(table, cfg.evaluation)
    else:
        result.evaluation = {"skipped": skipped}
        log.info("evaluation skipped: %s", skipped)
    entry = {"mode": "append", **counts, "extracted": len(changes.to_extract), "batches": len(todo),
             "pruned_rows": pruned, "refit": refitting,
             "models": {"uri": models_uri if models is not None else None, "fitted_now": refitting}}
    tables = (lambda: (digest.tally, digest.errors)) if digest is not None else (
        lambda: _tables_tally(spark, cfg.output))
    manifest = finish(spark, cfg, result, clock, guard, metrics, started, table,
                      lambda: _count(result, found, changes, *tables()),
                      lambda: {"increment": {**entry, "table_versions": _versions(spark, cfg.output)}},
                      in_place=True, known=digest)
    if table is not None:
        table.unpersist()
    if memory is not None:
        memory.known = Known(manifest["increment"]["table_versions"], models, recorded, result.digest)
    return manifest
