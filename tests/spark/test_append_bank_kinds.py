"""An append over a bank with every kind of file a binaryFile scan leaves out or Spark's file index hides: 0-byte
images, a file over max_file_bytes, odd names (glob characters, `%`, `:`, NFD), junk, hidden folders, a dangling
link. The append's listing must see each file as the overwrite run accounts it: nothing is "deleted", nothing is
re-extracted, `--prune` removes nothing, and new, filled or emptied files end as a full run would write them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fruit_pipeline.stages.accounting import EMPTY
from odd_bank import write_odd_bank
from spark.helpers import run
from spark.table_helpers import table_rows
from torture import jpeg, textured

pytestmark = pytest.mark.spark

EMPTY_FILES = ("Training/Kiwi/empty.jpg", "val/Kiwi/empty.PNG")
LARGE = "Training/Kiwi/motion-photo.jpg"  # the largest image of the odd bank: over the limit set below


@pytest.fixture()
def bank(tmp_path) -> tuple[Path, dict]:
    """(the odd bank plus two 0-byte images, the settings whose max_file_bytes leaves out only LARGE)."""
    odd = write_odd_bank(tmp_path / "odd [v2]")
    for rel in EMPTY_FILES:
        (odd.root / rel).write_bytes(b"")
    sizes = {rel: (odd.root / rel).stat().st_size for rel in odd.images}
    assert max(sizes, key=sizes.get) == LARGE
    settings = {"reduction": {"enabled": False}, "extraction": {"max_file_bytes": sizes[LARGE] - 1}}
    return odd.root, settings


def _reasons(spark, out: Path) -> dict[str, str]:
    return {r["path"].rsplit("/", 1)[-1]: r["reason"] for r in table_rows(spark, out, "errors")}


def test_an_append_sees_every_file_as_the_overwrite_run_accounts_it(spark, bank, tmp_path):
    root, settings = bank
    first = run(spark, root, tmp_path / "out", **settings)
    n_errors = len(EMPTY_FILES) + 1
    assert first["counts"]["error_rows"] == n_errors and first["errors_by_stage"] == {"decode": 2, "read": 1}
    features, errors = table_rows(spark, tmp_path / "out", "features"), table_rows(spark, tmp_path / "out", "errors")

    again = run(spark, root, tmp_path / "out", increment={"mode": "append", "prune": True}, **settings)
    inc = again["increment"]
    assert (inc["new"], inc["changed"], inc["deleted"], inc["extracted"], inc["pruned_rows"]) == (0, 0, 0, 0, 0)
    assert inc["unchanged"] == first["counts"]["features_rows"] + n_errors
    assert inc["table_versions"] == {"features": 0, "errors": 0}  # nothing committed
    assert again["counts"] == first["counts"] and again["skipped"] == first["skipped"]
    assert again["errors_by_stage"] == first["errors_by_stage"]
    assert table_rows(spark, tmp_path / "out", "features") == features
    assert table_rows(spark, tmp_path / "out", "errors") == errors

    # a new 0-byte file, a new image, an empty file filled, an image emptied: then as a full run on the same bank
    (root / "Training/Kiwi/empty-new.jpg").write_bytes(b"")
    (root / "Training/Kiwi/new.jpg").write_bytes(jpeg(textured(41)))
    (root / EMPTY_FILES[0]).write_bytes(jpeg(textured(42)))
    (root / "Training/Apple Red/b.jpg").write_bytes(b"")
    m = run(spark, root, tmp_path / "out", increment={"mode": "append"}, **settings)
    inc = m["increment"]
    assert (inc["new"], inc["changed"], inc["deleted"], inc["extracted"]) == (2, 2, 0, 4)
    full = run(spark, root, tmp_path / "full", **settings)
    assert m["counts"] == full["counts"] and m["errors_by_stage"] == full["errors_by_stage"] == {"decode": 3, "read": 1}
    too_large = _reasons(spark, tmp_path / "full")["motion-photo.jpg"]
    assert too_large.startswith("file too large: ")
    assert _reasons(spark, tmp_path / "out") == {"empty-new.jpg": EMPTY, "empty.PNG": EMPTY, "b.jpg": EMPTY,
                                                 "motion-photo.jpg": too_large}
    assert table_rows(spark, tmp_path / "out", "features") == table_rows(spark, tmp_path / "full", "features")
    assert table_rows(spark, tmp_path / "out", "errors") == table_rows(spark, tmp_path / "full", "errors")


def test_an_append_on_a_bank_left_empty_or_missing_fails_with_one_line(spark, bank, tmp_path):
    from fruit_pipeline.errors import PipelineError

    root, settings = bank
    run(spark, root, tmp_path / "out", **settings)
    shutil.rmtree(root)
    with pytest.raises(PipelineError, match=r"^input not found: "):
        run(spark, root, tmp_path / "out", increment={"mode": "append"}, **settings)
    (root / "Training").mkdir(parents=True)
    (root / "Training" / "notes.txt").write_text("no images")
    with pytest.raises(PipelineError, match=r"^no \.jpg/\.jpeg/\.png files under .*; "):
        run(spark, root, tmp_path / "out", increment={"mode": "append"}, **settings)
