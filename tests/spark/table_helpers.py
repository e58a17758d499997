"""Banks split into A and B, and the Delta tables read back as sorted plain rows (for the append tests)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


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
