"""The run report: PNG plots and an index.html, from small aggregates only (matplotlib, no Spark)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable

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


ANNOTATED_CLASSES_MAX = 15


def plot_confusion(matrix: list[list[int]], labels: list[str], out: Path) -> str:
    m = np.array(matrix)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    if len(labels) <= ANNOTATED_CLASSES_MAX:  # beyond, the numbers are unreadable and cost ~1 s to draw
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


SAMPLE_SCALE = 2  # tiles are drawn at twice the bank's 100 x 100 px, so that keypoint circles stay visible
LABEL_STRIP_PX = 22


def _sample_tile(sample: dict[str, Any], size: int) -> np.ndarray | None:
    """One sample image (BGR, `size` x `size`) with its ORB keypoints drawn by OpenCV (circles of the keypoint size),
    and its keypoint count; None when the bytes do not decode."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(sample["content"], np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    sx, sy = size / bgr.shape[1], size / bgr.shape[0]
    bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_NEAREST)
    keypoints = [cv2.KeyPoint(float(x) * sx, float(y) * sy, max(float(d) * sx, 1.0)) for x, y, d in sample["keypoints"]]
    tile = cv2.drawKeypoints(bgr, keypoints, None, (0, 255, 0), cv2.DRAW_MATCHES_FLAGS_DRAW_RICH_KEYPOINTS)
    cv2.putText(tile, f"{len(keypoints)} kp", (3, size - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                cv2.LINE_AA)
    return tile


def plot_samples(samples: list[dict[str, Any]], out: Path, tile_px: int = 100 * SAMPLE_SCALE) -> str:
    """A grid, one row per class under a strip with its label, of sample images with their ORB keypoints drawn by
    OpenCV (`cv2.drawKeypoints`); a PNG of (strip + tile_px) per class x tile_px per image. Labels are drawn in
    OpenCV's Hershey font, which has ASCII only (other characters show as '?')."""
    import cv2

    labels = list(dict.fromkeys(s["label"] for s in samples))
    per_row = max(sum(1 for s in samples if s["label"] == label) for label in labels)
    rows = []
    for label in labels:
        strip = np.full((LABEL_STRIP_PX, per_row * tile_px, 3), 255, np.uint8)
        cv2.putText(strip, label.encode("ascii", "replace").decode(), (4, LABEL_STRIP_PX - 7),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        row = np.full((tile_px, per_row * tile_px, 3), 255, np.uint8)
        for col, sample in enumerate(s for s in samples if s["label"] == label):
            tile = _sample_tile(sample, tile_px)
            if tile is not None:
                row[:, col * tile_px:(col + 1) * tile_px] = tile
        rows += [strip, row]
    path = out / "samples.png"
    cv2.imwrite(str(path), np.vstack(rows))
    return path.name


def _table(rows: list[tuple[str, str]], head: tuple[str, str]) -> str:
    cells = "".join(f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td></tr>" for a, b in rows)
    return f"<table><tr><th>{html.escape(head[0])}</th><th>{html.escape(head[1])}</th></tr>{cells}</table>"


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested parameters as (dotted.key, value) rows."""
    rows: list[tuple[str, str]] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", str(value)))
    return rows


def facts_html(facts: dict[str, Any]) -> list[str]:
    """Counts, the first errors with their reasons, stage timings, the cost estimate (text) and parameters, as HTML
    blocks."""
    blocks = ["<h2>Counts</h2>" + _table([(k, str(v)) for k, v in facts.get("counts", {}).items()], ("", "files"))]
    errors = facts.get("errors") or []
    if errors:
        cells = "".join(f"<tr><td>{html.escape(e['path'])}</td><td>{html.escape(e['stage'])}</td>"
                        f"<td>{html.escape(e['reason'] or '')}</td></tr>" for e in errors)
        blocks.append(f"<h2>Errors (first {len(errors)}; all in errors/)</h2>"
                      f"<table><tr><th>file</th><th>stage</th><th>reason</th></tr>{cells}</table>")
    timings = [(stage, f"{seconds:.1f}") for stage, seconds in facts.get("durations_s", {}).items()]
    if timings:
        blocks.append("<h2>Stage timings</h2>" + _table(timings, ("stage", "seconds")))
    if facts.get("cost"):
        blocks.append(f"<h2>Cost (estimate)</h2><pre>{html.escape(facts['cost'])}</pre>")
    if facts.get("parameters"):
        blocks.append("<h2>Parameters</h2>" + _table(_flatten(facts["parameters"]), ("setting", "value")))
    return blocks


def _now(value: Any) -> Any:
    """A value, or the result of a callable standing for one that is still being read (e.g. `Future.result`)."""
    return value() if callable(value) else value


def write_report(out: Path, aggregates: dict[str, Any], explained_variance: list[float],
                 evaluation: dict[str, Any], title: str, facts: dict[str, Any] | None = None,
                 samples: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] | None = None) -> list[str]:
    """Write PNGs and index.html into `out`; returns the file names. `facts`: counts, errors, durations_s,
    parameters (see `facts_html`); `samples`: images per class with keypoints (see `plot_samples`).
    `samples` and `aggregates["scatter"]` may be callables returning them: they are called after the plots that do
    not need them are drawn, so that reading them from Spark overlaps the drawing."""
    out.mkdir(parents=True, exist_ok=True)
    images = [plot_class_counts(aggregates["class_counts"], out), plot_keypoints(aggregates["keypoint_buckets"], out)]
    variance = plot_explained_variance(explained_variance, out) if explained_variance else None
    samples = _now(samples)
    if samples:
        images.append(plot_samples(samples, out))
    if variance:
        images.append(variance)
    scatter = _now(aggregates.get("scatter"))
    if scatter:
        images.append(plot_scatter(scatter, out))
    body = [f"<h1>{html.escape(title)}</h1>"]
    body += [f"<p class='note'>{html.escape(note)}</p>" for note in aggregates.get("notes", [])]
    if evaluation.get("skipped"):
        body.append(f"<p>Evaluation skipped: {html.escape(evaluation['skipped'])}.</p>")
    elif evaluation:
        images.append(plot_confusion(evaluation["confusion"], evaluation["labels"], out))
        body.append(f"<p>Test accuracy {evaluation['accuracy']:.3f}, macro-F1 {evaluation['macro_f1']:.3f} "
                    f"({evaluation['test_rows']} Test images, {evaluation['train_rows']} Training images).</p>")
        if evaluation.get("ablation"):
            body.append("<h2>Ablation</h2>" + _ablation_table(evaluation))
    body += facts_html(facts or {})
    body += [f'<h2>{html.escape(name)}</h2><img src="{name}" alt="{name}">' for name in images]
    page = "<!doctype html><meta charset='utf-8'><title>fruit-pipeline report</title>" \
           "<style>body{font-family:sans-serif;max-width:900px;margin:auto}td,th{padding:2px 10px}</style>" + \
           "\n".join(body)
    (out / "index.html").write_text(page, encoding="utf-8")
    return images + ["index.html"]
