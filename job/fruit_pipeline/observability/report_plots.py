"""The run report: PNG plots and an index.html, from small aggregates only (matplotlib, no Spark)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def plot_class_counts(counts: list[tuple[str, str, int]], out: Path) -> str:
    labels = sorted({label for _, label, _ in counts})
    splits = sorted({split for split, _, _ in counts})
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(splits))
    for i, split in enumerate(splits):
        values = [sum(n for s, lab, n in counts if s == split and lab == label) for label in labels]
        ax.bar(x + i * width, values, width, label=split)
    ax.set_xticks(x + width * (len(splits) - 1) / 2, labels, rotation=30, ha="right")
    ax.set_ylabel("images")
    ax.set_title("Images per class and split")
    ax.legend()
    return _save(fig, out / "class_counts.png")


def keypoint_bins(histogram: dict[int, int], width: int = 10, last: int = 500) -> list[tuple[int, int]]:
    """(bin start, images) in bins of `width` keypoints, everything from `last` up in the last bin."""
    bins: dict[int, int] = {}
    for k, n in histogram.items():
        start = min(k // width * width, last)
        bins[start] = bins.get(start, 0) + n
    return sorted(bins.items())


def plot_keypoints(buckets: list[tuple[int, int]], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar([b for b, _ in buckets], [n for _, n in buckets], width=9, align="edge")
    ax.set_xlabel("ORB keypoints per image (bins of 10)")
    ax.set_ylabel("images")
    ax.set_title("Keypoints per image")
    return _save(fig, out / "keypoints.png")


def plot_explained_variance(variance: list[float], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    n = np.arange(1, len(variance) + 1)
    ax.bar(n, variance, label="per component")
    ax.plot(n, np.cumsum(variance), "o-", color="C1", label="cumulative")
    ax.set_xlabel("PCA component")
    ax.set_ylabel("explained variance ratio")
    ax.set_ylim(0, 1)
    ax.set_title("PCA explained variance")
    ax.legend()
    return _save(fig, out / "explained_variance.png")


def plot_scatter(points: list[tuple[str, float, float]], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 5))
    for label in sorted({p[0] for p in points}):
        xs = [p[1] for p in points if p[0] == label]
        ys = [p[2] for p in points if p[0] == label]
        ax.scatter(xs, ys, s=8, alpha=0.7, label=label)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("Images on the first two PCA components")
    ax.legend(fontsize=7, markerscale=2)
    return _save(fig, out / "pca_scatter.png")


def plot_confusion(matrix: list[list[int]], labels: list[str], out: Path) -> str:
    m = np.array(matrix)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (Test split)")
    fig.colorbar(im, ax=ax)
    return _save(fig, out / "confusion_matrix.png")


def _ablation_table(evaluation: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{r['accuracy']:.3f}</td><td>{r['macro_f1']:.3f}</td></tr>"
                   for name, r in evaluation.get("ablation", {}).items())
    return f"<table><tr><th>features</th><th>accuracy</th><th>macro-F1</th></tr>{rows}</table>"


def write_report(out: Path, aggregates: dict[str, Any], explained_variance: list[float],
                 evaluation: dict[str, Any], title: str) -> list[str]:
    """Write PNGs and index.html into `out`; returns the file names."""
    out.mkdir(parents=True, exist_ok=True)
    images = [plot_class_counts(aggregates["class_counts"], out), plot_keypoints(aggregates["keypoint_buckets"], out)]
    if explained_variance:
        images.append(plot_explained_variance(explained_variance, out))
    if aggregates.get("scatter"):
        images.append(plot_scatter(aggregates["scatter"], out))
    body = [f"<h1>{html.escape(title)}</h1>"]
    if evaluation.get("skipped"):
        body.append(f"<p>Evaluation skipped: {html.escape(evaluation['skipped'])}.</p>")
    elif evaluation:
        images.append(plot_confusion(evaluation["confusion"], evaluation["labels"], out))
        body.append(f"<p>Test accuracy {evaluation['accuracy']:.3f}, macro-F1 {evaluation['macro_f1']:.3f} "
                    f"({evaluation['test_rows']} Test images, {evaluation['train_rows']} Training images).</p>")
        body.append("<h2>Ablation</h2>" + _ablation_table(evaluation))
    body += [f'<h2>{html.escape(name)}</h2><img src="{name}" alt="{name}">' for name in images]
    page = "<!doctype html><meta charset='utf-8'><title>fruit-pipeline report</title>" \
           "<style>body{font-family:sans-serif;max-width:900px;margin:auto}td,th{padding:2px 10px}</style>" + \
           "\n".join(body)
    (out / "index.html").write_text(page, encoding="utf-8")
    return images + ["index.html"]
