"""Accuracy, macro-F1 and per-class recall from a confusion matrix (pure NumPy)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(pairs: list[tuple[int, int, int]], n_classes: int) -> np.ndarray:
    """(true index, predicted index, count) triples -> n x n matrix (rows: true, columns: predicted)."""
    m = np.zeros((n_classes, n_classes), np.int64)
    for true, pred, count in pairs:
        if 0 <= true < n_classes and 0 <= pred < n_classes:
            m[true, pred] += count
    return m


def summary(matrix: np.ndarray, labels: list[str]) -> dict:
    total = int(matrix.sum())
    tp = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    present = support > 0
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": {label: float(r) for label, r, p in zip(labels, recall, present) if p},
        "test_rows": total,
    }


def coverage_of_test_rows(test_counts: dict[str, int], train_labels: list[str]) -> dict:
    """Which Test rows the metrics can cover: those whose label has Training images; the others named and counted."""
    known = set(train_labels)
    unseen = {label: n for label, n in sorted(test_counts.items()) if label not in known}
    total, left_out = sum(test_counts.values()), sum(unseen.values())
    scope = f"{total - left_out} of {total} Test rows (those whose label has Training images)"
    if unseen:
        names = ", ".join(f"{label!r} ({n})" for label, n in unseen.items())
        scope += f"; {left_out} row(s) of {len(unseen)} label(s) absent from Training left out: {names}"
    return {"test_rows_total": total, "unseen_test_labels": unseen, "unseen_test_rows": left_out,
            "metrics_over": scope}


def unscorable_reason(coverage: dict) -> str | None:
    """Why nothing can be scored (every Test row's label is absent from Training), or None; `coverage` as given by
    `coverage_of_test_rows`."""
    if coverage["test_rows_total"] and coverage["unseen_test_rows"] == coverage["test_rows_total"]:
        return "no Test image has a label with Training images (see unseen_test_labels)"
    return None
