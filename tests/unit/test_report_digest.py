"""The report's digest of a table plus an increment's rows equals the digest of the whole new table (pure)."""

import random

from fruit_pipeline.observability.report_digest import (ReportDigest, Picked, Picture, bottom, bottom_per_label,
                                                        shown)
from fruit_pipeline.stages.accounting import Group, Tally

POINTS, PER_CLASS = 7, 2


def _rows(n: int, labels: list[str], seed: int) -> list[Picked]:
    rng = random.Random(seed)
    return [Picked(rng.randrange(-2**63, 2**63), f"Training/{rng.choice(labels)}/{seed}-{i}.jpg", "", rng.random(),
                   rng.random()) for i in range(n)]


def _labelled(rows: list[Picked]) -> list[Picked]:
    return [Picked(r.h, r.path, r.path.split("/")[1], r.pc1, r.pc2) for r in rows]


def _digest(rows: list[Picked], errors: list[str]) -> ReportDigest:
    """The digest as a read of the whole table makes it (report_samples), from the rows themselves."""
    tally = Tally([Group("Training", label, None, sum(1 for r in rows if r.label == label), 0, 0)
                   for label in sorted({r.label for r in rows})])
    ranked = bottom_per_label(rows, PER_CLASS)
    pictures = {r.path: Picture(r.path.encode(), [(r.pc1, r.pc2, 1.0)]) for r in shown(ranked)}
    return ReportDigest(tally, bottom(rows, POINTS), ranked, pictures,
                        [{"path": p, "stage": "decode", "reason": "x"} for p in sorted(errors)[:10]])


def test_bottom_k_takes_the_smallest_hash_then_path():
    rows = [Picked(5, "b", "x"), Picked(1, "z", "y"), Picked(5, "a", "x"), Picked(9, "c", "y"), Picked(2, "d", "x")]
    assert [r.path for r in bottom(rows, 3)] == ["z", "d", "a"]
    assert [r.path for r in bottom_per_label(rows, 2)] == ["d", "a", "z", "c"]
    assert [r.path for r in shown(bottom_per_label(rows, 2), 1)] == ["d", "a"]


def test_a_table_plus_inserted_rows_has_the_digest_of_the_whole_new_table():
    labels = [f"fruit{i:02d}" for i in range(14)]  # more than the 12 shown: "apple" pushes the last one out
    old, new = _labelled(_rows(90, labels, 1)), _labelled(_rows(30, labels + ["apple"], 2))
    old_errors, new_errors = [f"e/o/{i}" for i in range(8)], [f"e/a/{i}" for i in range(5)]
    merged = _digest(old, old_errors).plus(_digest(new, new_errors), POINTS, PER_CLASS)
    whole = _digest(old + new, old_errors + new_errors)
    assert merged.scatter == whole.scatter and merged.ranked == whole.ranked
    assert merged.tally == whole.tally and merged.errors == whole.errors
    assert [s["path"] for s in merged.samples()] == [r.path for r in shown(whole.ranked)]
    assert "apple" in {s["label"] for s in merged.samples()} and "fruit13" not in {s["label"] for s in merged.samples()}
    assert merged.missing_pictures() == []
    assert merged.scatter_points() == [(r.label, r.pc1, r.pc2) for r in whole.scatter]


def test_rows_newly_shown_without_a_picture_are_named():
    old = ReportDigest(Tally(), ranked=[Picked(5, "Training/b/1.jpg", "b")],
                       pictures={"Training/b/1.jpg": Picture(b"b", [])})
    merged = old.plus(ReportDigest(Tally(), ranked=[Picked(1, "Training/a/2.jpg", "a")]), POINTS, PER_CLASS)
    assert merged.missing_pictures() == ["Training/a/2.jpg"]
    assert [s["path"] for s in merged.samples()] == ["Training/b/1.jpg"]
