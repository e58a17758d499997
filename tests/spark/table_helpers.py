"""Banks split into A and B, and the Delta tables read back as sorted plain rows (for the append tests)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


# small models for the few images of the append tests' banks
SMALL = {"reduction": {"vocabulary_size": 8, "pca_components": 4, "descriptor_sample": 2000},
         "evaluation": {"enabled": False}}


def a_and_b(root: Path, seed: int) -> tuple[Path, Path, list[str]]:
    """A generated bank of 3 classes x 8 images split into A and B (every 4th image): (A, B, B's relative paths)."""
    from fruit_pipeline.sample_bank import BankSpec, write_bank

    write_bank(BankSpec(root / "full", classes=3, per_class=8, test_fraction=0.25, seed=seed), workers=1)
    return split_bank(root / "full", root / "a", root / "b", every=4)


def split_bank(full: Path, a: Path, b: Path, every: int) -> tuple[Path, Path, list[str]]:
    """Copy `full` into A, moving every `every`-th image (sorted) into B; returns (A, B, B's relative paths)."""
    shutil.copytree(full, a)
    rels = [p.relative_to(a).as_posix() for p in sorted(a.rglob("*.jpg"))][::every]
    for rel in rels:
        (b / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(a / rel, b / rel)
    return a, b, rels


def add_files(src: Path, bank: Path) -> None:
    """Copy every file of `src` into `bank` at the same relative place."""
    shutil.copytree(src, bank, dirs_exist_ok=True)


def _plain(value: Any) -> Any:
    if hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def table_rows(spark, out: Path | str, name: str) -> list[dict]:
    """Every row of the Delta table OUT/name (its latest version), as dicts sorted by path."""
    rows = spark.read.format("delta").load(str(Path(out) / name) if "://" not in str(out) else f"{out}/{name}")
    return sorted((_plain(r) for r in rows.collect()), key=lambda r: r["path"])
