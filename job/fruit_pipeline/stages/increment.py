"""What an append has to do: the bank's files against the tables' rows, by (path, size, modification time).

The comparison itself runs in Spark (`feature_table.compare`); this module holds its result and the batching. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NEW, CHANGED, DELETED, UNCHANGED = "new", "changed", "deleted", "unchanged"


@dataclass
class Changes:
    """The bank against the tables: paths to extract (new, changed), paths gone (deleted), and the rest counted.
    `unscanned`: paths to extract that no binaryFile scan returns (0-byte files); `extract_bytes`: their sizes'
    sum over the paths to extract."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    unscanned: list[str] = field(default_factory=list)
    extract_bytes: int = 0

    @property
    def to_extract(self) -> list[str]:
        """New and changed paths, sorted (a rerun walks them in the same order)."""
        return sorted(self.new + self.changed)

    @property
    def listed(self) -> int:
        """Files of the bank the comparison saw."""
        return len(self.new) + len(self.changed) + self.unchanged

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "changed": len(self.changed), "deleted": len(self.deleted),
                "unchanged": self.unchanged}


def from_groups(groups: list[tuple[str, int, list[str], list[str], int]]) -> Changes:
    """Changes from the comparison's rows (kind, files, paths, unscanned paths, listed bytes); paths sorted."""
    changes = Changes()
    for kind, n, paths, unscanned, nbytes in groups:
        if kind == UNCHANGED:
            changes.unchanged = n
            continue
        getattr(changes, kind).extend(sorted(paths))
        changes.unscanned.extend(unscanned)
        changes.extract_bytes += nbytes if kind != DELETED else 0
    changes.unscanned.sort()
    return changes


def plan(changes: Changes, size: int) -> list[tuple[list[str], bool]]:
    """The batches to commit, as (paths, replace): changed paths first (MERGE: they replace rows), then new ones
    (absent from both tables: a plain insert). Each batch holds at most `size` paths (size > 0)."""
    return [(paths, True) for paths in batches(changes.changed, size)] + \
        [(paths, False) for paths in batches(changes.new, size)]


def batches(paths: list[str], size: int) -> list[list[str]]:
    """Consecutive slices of at most `size` paths (size > 0)."""
    return [paths[i:i + size] for i in range(0, len(paths), size)]
