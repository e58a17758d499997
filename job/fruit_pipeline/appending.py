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
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from .config import PipelineConfig
from .errors import PipelineError
from .observability.metrics import JobMetrics
from .observability.progress import StageClock
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


def _count(spark: SparkSession, output: str, result: Any, found: listing.Survey,
           changes: increment.Changes) -> accounting.Tally:
    """The whole tables' tally (small columns only), with the run's counts set in `result` from it."""
    tally = accounting.table_tally(spark, output)
    result.input_files = len(found.stats) + found.skips.image_files
    result.skipped = found.skips.as_dict()
    result.features_rows = tally.feature_rows
    result.errors_by_stage = tally.errors_by_stage()
    result.error_rows = sum(result.errors_by_stage.values())
    result.keypoints_total = tally.keypoints_total
    result.bytes_read = changes.extract_bytes
    result.errors_sample = first_errors(feature_table.read(spark, output, ERRORS)) if result.error_rows else []
    return tally


def _versions(spark: SparkSession, output: str) -> dict[str, int | None]:
    return {name: feature_table.version(spark, output, name) for name in (FEATURES, ERRORS)}


def _compare(spark: SparkSession, cfg: PipelineConfig) -> tuple[increment.Changes, listing.Survey]:
    """(the bank against the tables, the bank's survey). The bank is walked as the overwrite run surveys it (the
    same skip rules; 0-byte files included); only the comparison runs in Spark."""
    found = listing.survey_input(spark, cfg.input, stats=True)
    if not found.stats:
        skipped = found.skips.summary()
        raise PipelineError(f"no .jpg/.jpeg/.png files under {cfg.input}" + (f"; {skipped}" if skipped else ""))
    return feature_table.compare(spark, feature_table.bank_sources(spark, found.stats), cfg.output), found


def _evaluation_skipped(cfg: PipelineConfig, models: reduction.Models | None, refitted: bool) -> str | None:
    """Why the append does not evaluate, or None when it does."""
    if models is None:
        return "no models (--no-reduction)"
    if not cfg.evaluation.enabled:
        return "turned off (--no-evaluation)"
    if not refitted and not cfg.increment.evaluate:
        return "append without --refit: the models did not change; use --evaluate to evaluate the whole table"
    return None


def run_append(cfg: PipelineConfig, spark: SparkSession, result: Any, metrics: JobMetrics,
               guard: OutputGuard) -> dict[str, Any] | None:
    """The append run (see the module docstring); returns the manifest (also written, last). A poll of `--watch`
    that finds nothing to extract or prune commits nothing and returns None."""
    from .pipeline import finish

    started = time.monotonic()
    clock = StageClock(spark.sparkContext, listeners=[metrics.progress])
    inc = cfg.increment
    log.info("append %s: %s -> %s", result.run_id, cfg.input, cfg.output)
    guard.own_tables()
    with ThreadPoolExecutor(max_workers=1) as side:  # loading the models (short Spark jobs) overlaps the listing
        loading = None if inc.refit or not cfg.reduction.enabled else side.submit(saved_models, spark, cfg.output)
        with clock.stage("list"):
            changes, found = _compare(spark, cfg)
        models = loading.result() if loading is not None else None
    if models is not None:  # extract exactly as the run that fitted the models did
        cfg = dataclasses.replace(cfg, extraction=models.extraction)
    clock.total = len(found.stats)
    counts = changes.counts()
    todo = increment.plan(changes, inc.batch_files)
    if inc.watch_s and not todo and not (inc.prune and changes.deleted):
        log.info("watch: nothing new (%(unchanged)d unchanged, %(deleted)d deleted file(s) kept): no increment",
                 counts)
        return None
    log.info("append: %(new)d new, %(changed)d changed, %(deleted)d deleted, %(unchanged)d unchanged file(s)", counts)
    if changes.deleted and not inc.prune:
        log.warning("%d file(s) in the tables are no longer in the bank (kept; --prune removes them)",
                    len(changes.deleted))
    unscanned = set(changes.unscanned)
    with clock.stage("extract"):
        for number, (paths, replace) in enumerate(todo, 1):
            batch = file_rows.rows_of(spark, cfg.input, paths, cfg.extraction, models, unscanned)
            _commit_batch(spark, cfg.output, paths, batch, replace)
            batch.unpersist()
            log.info("append: batch %d/%d committed (%d file(s), %s)", number, len(todo), len(paths),
                     "MERGE: changed files" if replace else "insert: new files")
    pruned = 0
    if inc.prune and changes.deleted:
        pruned = feature_table.delete_paths(spark, cfg.output, changes.deleted)
        log.info("append: pruned %d row(s) of %d deleted file(s)", pruned, len(changes.deleted))
    refitted = False
    models_uri = writing.models_uri(cfg.output)
    if cfg.reduction.enabled and models is None:
        with clock.stage("reduce"):
            models = _refit(spark, cfg, guard.staging_uri, [path for path, _size, _ms in found.stats])
            refitted = True
    if models is not None:
        result.reduction = models.facts(cfg.reduction.pca_components, models_uri)
    # evaluation + report: every column but the descriptors (the largest, which neither reads)
    table = feature_table.read(spark, cfg.output, FEATURES).drop("descriptors")
    skipped = _evaluation_skipped(cfg, models, refitted)
    if skipped is None:
        table = table.persist(StorageLevel.MEMORY_AND_DISK)
        with clock.stage("evaluate"):
            result.evaluation = evaluation.evaluate(table, cfg.evaluation)
    else:
        result.evaluation = {"skipped": skipped}
        log.info("evaluation skipped: %s", skipped)
    entry = {"mode": "append", **counts, "extracted": len(changes.to_extract), "batches": len(todo),
             "pruned_rows": pruned, "refit": refitted,
             "models": {"uri": models_uri if models is not None else None, "fitted_now": refitted}}
    manifest = finish(spark, cfg, result, clock, guard, metrics, started, table,
                      lambda: _count(spark, cfg.output, result, found, changes),
                      lambda: {"increment": {**entry, "table_versions": _versions(spark, cfg.output)}}, in_place=True)
    table.unpersist()
    return manifest
