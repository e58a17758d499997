"""Classifier on Training, scored on Test (Spark ML multinomial logistic regression), with an ablation."""

from __future__ import annotations

import logging
from typing import Any, Callable

from pyspark import StorageLevel
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import StandardScaler, StringIndexerModel, VectorAssembler
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ..classification_metrics import confusion_matrix, coverage_of_test_rows, summary, unscorable_reason
from ..config import EvaluationConfig
from ..observability.progress import Step
from .reduction import TRAINING, deterministic, with_vectors

log = logging.getLogger(__name__)
TEST = "Test"
# Ablation: which feature columns each classifier sees. "reduced" is the delivered `features` column.
VARIANTS = {
    "bovw": ["bovw_vec"],
    "colour": ["colour_vec"],
    "bovw+colour": ["bovw_vec", "colour_vec"],
    "reduced": ["features_vec"],
}
MAIN_VARIANT = "reduced"


def _classifier(columns: list[str], cfg: EvaluationConfig) -> Pipeline:
    return Pipeline(stages=[
        VectorAssembler(inputCols=columns, outputCol="x"),
        StandardScaler(inputCol="x", outputCol="xs", withMean=True, withStd=True),
        LogisticRegression(featuresCol="xs", labelCol="y", family="multinomial", maxIter=cfg.max_iter,
                           regParam=cfg.reg_param, tol=cfg.tol),
    ])


def _score(train: DataFrame, test: DataFrame, columns: list[str], labels: list[str], cfg: EvaluationConfig) -> dict:
    model = _classifier(columns, cfg).fit(train)
    counts = model.transform(test).groupBy("y", "prediction").count().collect()
    matrix = confusion_matrix([(int(r["y"]), int(r["prediction"]), int(r["count"])) for r in counts], len(labels))
    return {**summary(matrix, labels), "confusion": matrix.tolist()}


def skip_reason(train_labels: int, test_rows: int) -> str | None:
    """Why the classifier cannot be evaluated meaningfully, or None."""
    if train_labels == 0:
        return "no Training images"
    if test_rows == 0:
        return "no Test images"
    if train_labels < 2:
        return "only 1 label in Training: a classifier needs at least 2"
    return None


def _variants(cfg: EvaluationConfig) -> dict[str, list[str]]:
    return VARIANTS if cfg.ablation else {MAIN_VARIANT: VARIANTS[MAIN_VARIANT]}


def steps(cfg: EvaluationConfig) -> list[Step]:
    """The steps of `evaluate` and the Spark jobs each runs at most (L-BFGS: one per iteration, plus scaling)."""
    return [Step("prepare", 6)] + [Step(name, cfg.max_iter + 6) for name in _variants(cfg)]


def evaluate(reduced: DataFrame, cfg: EvaluationConfig,
             on_step: Callable[[str], None] = lambda _name: None) -> dict[str, Any]:
    """Metrics of the delivered `features` (with `cfg.ablation`, also of every ablation variant).
    `{"skipped": reason}` when a split is missing or Training has fewer than 2 labels. `on_step` is called as
    each of `steps(cfg)` starts."""
    on_step("prepare")
    # only the columns the classifiers read, cached once for the three scans of them (the split x label counts, the
    # Training and the Test caches); the descriptors and keypoints are never cached here
    small = reduced.select("path", "label", "split", "bovw", "colour_hist", "features").persist(
        StorageLevel.MEMORY_AND_DISK)
    try:
        return _evaluate(small, cfg, on_step)
    finally:
        small.unpersist()


def split_label_counts(small: DataFrame) -> dict[str, dict[str, int]]:
    """split -> label -> rows, in one aggregation (it answers every question the preparation asks)."""
    counts: dict[str, dict[str, int]] = {}
    for r in small.groupBy("split", "label").count().collect():
        counts.setdefault(r["split"], {})[r["label"]] = int(r["count"])
    return counts


def _evaluate(small: DataFrame, cfg: EvaluationConfig, on_step: Callable[[str], None]) -> dict[str, Any]:
    data = with_vectors(small).withColumn("features_vec", array_to_vector("features"))
    train_raw = data.where(F.col("split") == TRAINING)
    test_raw = data.where(F.col("split") == TEST)
    counts = split_label_counts(small)
    train_counts, test_counts = counts.get(TRAINING, {}), counts.get(TEST, {})
    reason = skip_reason(len(train_counts), sum(test_counts.values()))
    if reason:
        return {"skipped": reason}
    # what StringIndexer(stringOrderType="alphabetAsc").fit would find, without its Spark job
    labels = sorted(train_counts)
    indexer_model = StringIndexerModel.from_labels(labels, inputCol="label", outputCol="y", handleInvalid="keep")
    coverage = coverage_of_test_rows(test_counts, labels)
    if coverage["unseen_test_rows"]:
        log.warning("evaluation: %s", coverage["metrics_over"])
        test_raw = test_raw.where(F.col("label").isin(labels))
        if unscorable := unscorable_reason(coverage):
            return {"skipped": unscorable, **coverage}
    train_rows = sum(train_counts.values())
    train = deterministic(indexer_model.transform(train_raw), train_rows).cache()
    test = indexer_model.transform(test_raw).cache()
    try:
        ablation = {}
        for name, cols in _variants(cfg).items():
            on_step(name)
            ablation[name] = _score(train, test, cols, labels, cfg)
    finally:
        train.unpersist()
        test.unpersist()
    main = ablation[MAIN_VARIANT]
    return {
        "classifier": "Spark ML multinomial logistic regression (standardised inputs)",
        "labels": labels,
        "train_rows": train_rows,
        **{k: main[k] for k in ("accuracy", "macro_f1", "per_class_recall", "test_rows", "confusion")},
        **coverage,
        **({"ablation": {name: {"accuracy": r["accuracy"], "macro_f1": r["macro_f1"]}
                         for name, r in ablation.items()}} if cfg.ablation else {}),
    }
