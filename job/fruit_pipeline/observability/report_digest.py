"""What the report reads from the tables, kept small and mergeable, so that an increment's report needs no read.

Every part is a deterministic function of the table's rows: the tally (sums), the first error rows by path, and
bottom-k samples by each row's seeded hash `h = xxhash64(bank key, seed)` (the PCA scatter's `points` smallest
(h, path), and per label the `per_class` smallest). Sums and bottom-k samples of a union are those of the parts'
results (Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007), so the digest of a table plus
the rows an increment inserts equals the digest read from the whole new table. Rows the increment replaces or
deletes cannot be taken out of a bottom-k sample: such an increment reads the table again. Pure.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ..stages.accounting import Tally

ERRORS_SHOWN = 10
SAMPLES_PER_CLASS = 4
CLASSES_SHOWN = 12


@dataclass(frozen=True)
class Picked:
    """A row of a bottom-k sample: its seeded hash, path, label and (scatter only) first two PCA components."""

    h: int
    path: str
    label: str
    pc1: float = 0.0
    pc2: float = 0.0


@dataclass(frozen=True)
class Picture:
    """A sample image as the report draws it: the file's bytes and its keypoints [(x, y, size)] in pixels."""

    content: bytes
    keypoints: list[tuple[float, float, float]]


def _order(row: Picked) -> tuple[int, str]:
    return row.h, row.path


def bottom(rows: list[Picked], k: int) -> list[Picked]:
    """The `k` rows with the smallest (h, path), in that order."""
    return heapq.nsmallest(k, rows, key=_order)


def bottom_per_label(rows: list[Picked], k: int) -> list[Picked]:
    """Per label, the `k` rows with the smallest (h, path); sorted by (label, h, path)."""
    by_label: dict[str, list[Picked]] = {}
    for row in rows:
        by_label.setdefault(row.label, []).append(row)
    return [row for label in sorted(by_label) for row in bottom(by_label[label], k)]


def shown(ranked: list[Picked], classes: int = CLASSES_SHOWN) -> list[Picked]:
    """The rows of the first `classes` labels (sorted) of `bottom_per_label`'s result: the report's sample grid."""
    labels = set(sorted({row.label for row in ranked})[:classes])
    return [row for row in ranked if row.label in labels]


@dataclass
class ReportDigest:
    """The report's view of the features and errors tables at one version (see the module docstring).
    `scatter`: `bottom(points)`; `ranked`: `bottom_per_label(per_class)` over every label; `pictures`: those of the
    `shown` rows that could be read; `errors`: the first `ERRORS_SHOWN` error rows by path {path, stage, reason}."""

    tally: Tally
    scatter: list[Picked] = field(default_factory=list)
    ranked: list[Picked] = field(default_factory=list)
    pictures: dict[str, Picture] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def plus(self, rows: ReportDigest, points: int, per_class: int = SAMPLES_PER_CLASS) -> ReportDigest:
        """The digest of this table plus the inserted `rows` (whose digest is given, disjoint paths). The pictures
        of rows newly shown are taken from `rows.pictures`: fill them first, or call `missing_pictures` after."""
        ranked = bottom_per_label(self.ranked + rows.ranked, per_class)
        pictures = {**self.pictures, **rows.pictures}
        return ReportDigest(self.tally.plus(rows.tally), bottom(self.scatter + rows.scatter, points), ranked,
                            {row.path: pictures[row.path] for row in shown(ranked) if row.path in pictures},
                            sorted(self.errors + rows.errors, key=lambda e: e["path"])[:ERRORS_SHOWN])

    def missing_pictures(self) -> list[str]:
        """Paths of the shown rows without a picture."""
        return [row.path for row in shown(self.ranked) if row.path not in self.pictures]

    def scatter_points(self) -> list[tuple[str, float, float]]:
        """(label, pc1, pc2) for `report_plots.plot_scatter`."""
        return [(row.label, row.pc1, row.pc2) for row in self.scatter]

    def samples(self) -> list[dict[str, Any]]:
        """{label, path, content, keypoints} of the shown rows that have a picture, for `report_plots.plot_samples`."""
        return [{"label": row.label, "path": row.path, "content": self.pictures[row.path].content,
                 "keypoints": self.pictures[row.path].keypoints}
                for row in shown(self.ranked) if row.path in self.pictures]
