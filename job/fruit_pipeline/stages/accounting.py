"""Make every listed file end in exactly one place: a feature row or an error row, and count both cheaply."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from . import feature_table, fs
from ..imaging.labels import label_twins
from .udfs import label_split


@dataclass(frozen=True)
class Group:
    """Extraction rows of one (split, label, error stage); stage None = feature rows."""

    split: str
    label: str
    stage: str | None
    rows: int
    file_bytes: int
    keypoints: int


@dataclass(frozen=True)
class Tally:
    """Everything the run reports about the extraction, from one aggregation (nothing per image)."""

    groups: list[Group] = field(default_factory=list)
    keypoint_histogram: dict[int, int] = field(default_factory=dict)  # keypoints per image -> feature rows

    @property
    def rows(self) -> int:
        return sum(g.rows for g in self.groups)

    @property
    def feature_rows(self) -> int:
        return sum(g.rows for g in self.groups if g.stage is None)

    @property
    def keypoints_total(self) -> int:
        return sum(g.keypoints for g in self.groups if g.stage is None)

    @property
    def file_bytes(self) -> int:
        return sum(g.file_bytes for g in self.groups)

    def plus(self, other: Tally) -> Tally:
        """The tally of this tally's rows and `other`'s together, for disjoint rows (two tables, or a table and the
        rows an increment inserts): groups of the same (split, label, stage) are added up."""
        merged: dict[tuple[str, str, str | None], Group] = {}
        for g in self.groups + other.groups:
            key = (g.split, g.label, g.stage)
            seen = merged.get(key)
            merged[key] = g if seen is None else Group(g.split, g.label, g.stage, seen.rows + g.rows,
                                                       seen.file_bytes + g.file_bytes, seen.keypoints + g.keypoints)
        histogram = Counter(self.keypoint_histogram) + Counter(other.keypoint_histogram)
        return Tally(sorted(merged.values(), key=lambda g: (g.split, g.label, g.stage or "")),
                     dict(sorted(histogram.items())))

    def errors_by_stage(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for g in self.groups:
            if g.stage is not None:
                counts[g.stage] += g.rows
        return dict(counts)

    def class_counts(self) -> list[tuple[str, str, int]]:
        """(split, label, feature rows), sorted."""
        counts: Counter[tuple[str, str]] = Counter()
        for g in self.groups:
            if g.stage is None:
                counts[(g.split, g.label)] += g.rows
        return [(split, label, n) for (split, label), n in sorted(counts.items())]


def tally(extracted: DataFrame) -> Tally:
    """One Spark job: per (split, label, stage) rows/bytes/keypoints and the keypoints-per-image histogram."""
    kp = F.when(F.col("error_stage").isNull(), F.col("n_keypoints")).alias("kp")
    keys = ["split", "label", "error_stage"]
    rows = (extracted.select(*keys, "file_bytes", "n_keypoints", kp)
            .groupingSets([keys, ["kp"]], *keys, "kp")
            .agg(F.grouping("kp").alias("by_class"), F.count("*").alias("n"),
                 F.sum("file_bytes").alias("bytes"), F.sum("n_keypoints").alias("keypoints"))
            .collect())
    groups = [Group(r["split"], r["label"], r["error_stage"], int(r["n"]), int(r["bytes"] or 0),
                    int(r["keypoints"] or 0)) for r in rows if r["by_class"]]
    histogram = {int(r["kp"]): int(r["n"]) for r in rows if not r["by_class"] and r["kp"] is not None}
    return Tally(sorted(groups, key=lambda g: (g.split, g.label, g.stage or "")), dict(sorted(histogram.items())))


def tally_of(features: DataFrame | None, errors: DataFrame | None) -> Tally:
    """The tally of feature rows `features` and error rows `errors` (either may be None), from their small columns
    only, in one Spark job."""
    parts = []
    if features is not None:
        parts.append(features.select("split", "label", "file_bytes", "n_keypoints",
                                     F.lit(None).cast("string").alias("error_stage")))
    if errors is not None:
        parts.append(errors.select("split", "label", "file_bytes", F.lit(0).alias("n_keypoints"),
                                   F.col("stage").alias("error_stage")))
    if not parts:
        return Tally()
    return tally(parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1]))


def table_tally(spark: SparkSession, output: str, errors: bool = True, features: bool = True) -> Tally:
    """The tally of the written tables OUTPUT/features (with `features`) and OUTPUT/errors (with `errors`, when it
    exists): what the run reports, counted from what it wrote."""
    has_errors = errors and feature_table.is_table(spark, feature_table.table_uri(output, feature_table.ERRORS))
    return tally_of(feature_table.read(spark, output, feature_table.FEATURES) if features else None,
                    feature_table.read(spark, output, feature_table.ERRORS) if has_errors else None)


def label_warnings(tally: Tally) -> list[str]:
    """One line per group of labels that differ only by case or surrounding whitespace."""
    labels = sorted({label for _split, label, _n in tally.class_counts()})
    return [f"labels differ only by case or surrounding whitespace: {', '.join(map(repr, group))}"
            for group in label_twins(labels)]


def report_notes(warnings: list[str], skipped: dict, evaluation: dict) -> list[str]:
    """Lines the report states before its plots: warnings, rows left out of the metrics, skipped files."""
    notes = [f"Warning: {w}" for w in warnings]
    if evaluation.get("unseen_test_rows"):
        notes.append(f"Evaluation metrics are over {evaluation['metrics_over']}.")
    if skipped.get("files"):
        reasons = ", ".join(f"{n} {reason}" for reason, n in skipped["by_reason"].items())
        notes.append(f"Skipped {skipped['files']} file(s) under the input: {reasons}.")
    return notes


def _with_label_split(df: DataFrame) -> DataFrame:
    return df.withColumn("_ls", label_split("path")).select("*", "_ls.label", "_ls.split").drop("_ls")


EMPTY = "empty file (0 bytes)"
VANISHED = "file disappeared between listing and reading"
CHECK_LIMIT = 1000  # existence checks on the driver; beyond this the two causes are not told apart


def unscanned_rows(spark: SparkSession, paths: list[str]) -> DataFrame:
    """Error rows (path, file_bytes, stage, reason) of files no scan returned. They are few in any sane bank, so the
    driver tells the two causes apart with one existence check each."""
    rows = []
    for i, path in enumerate(paths):
        if i >= CHECK_LIMIT:
            rows.append((path, "decode", f"{EMPTY} or removed after listing"))
        elif fs.exists(spark, path):
            rows.append((path, "decode", EMPTY))
        else:
            rows.append((path, "read", VANISHED))
    return spark.createDataFrame(rows, "path string, stage string, reason string").select(
        "path", F.lit(0).cast("long").alias("file_bytes"), "stage", "reason")


def listing_errors(listing: DataFrame, extracted: DataFrame, max_bytes: int,
                   unscanned: DataFrame | None = None) -> DataFrame:
    """Error rows for files the content scan never returned: empty, too large, or gone before reading."""
    too_large = F.col("length") > F.lit(max_bytes)
    oversize = listing.where(too_large).select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.concat(F.lit("file too large: "), F.col("length").cast(StringType()),
                 F.lit(f" bytes > max_file_bytes {max_bytes}")).alias("reason"))
    vanished = listing.where(~too_large).join(extracted.select("path"), "path", "left_anti").select(
        "path", F.col("length").alias("file_bytes"), F.lit("read").alias("stage"),
        F.lit(VANISHED).alias("reason"))
    both = oversize.unionByName(vanished)
    if unscanned is not None:
        both = both.unionByName(unscanned)
    return _with_label_split(both).select("path", "label", "split", "file_bytes", "stage", "reason")


CHANGED = "file changed while the run read it; run again to extract it"


def changed_during_run(features: DataFrame) -> DataFrame:
    """Error rows for files that failed in the run's pass but gave a feature row when read again (rewritten in
    between): the run cannot tell which content its other outputs saw."""
    return features.select("path", "label", "split", "file_bytes", F.lit("read").alias("stage"),
                           F.lit(CHANGED).alias("reason"), feature_table.SOURCE_MTIME)
