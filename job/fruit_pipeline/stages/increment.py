"""What an append has to do: the bank's files against the tables' rows, by (path, size, modification time).

`compare` is the comparison itself, over the bank's listing and what the tables record (`feature_table.recorded`);
`plan` cuts its result into batches. Pure.
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


# path -> (file_bytes, modification time in ms or None, rows): what the tables hold of each path. `rows` is 2 for a
# path with a row in both tables (an append killed between its two commits).
Recorded = dict[str, tuple[int, "int | None", int]]


def compare(stats: list[tuple[str, int, int]], recorded: Recorded) -> Changes:
    """The bank's files `stats` (path, size in bytes, modification time in ms; `listing.survey(..., stats=True)`)
    against `recorded`: listed only -> new; both, with another size or time or rows in both tables -> changed;
    recorded only -> deleted; the rest unchanged. A 0-byte file compares with time None (no scan returns it, so its
    error row records none) and is `unscanned`. Paths sorted."""
    changes = Changes()
    for path, size, ms in stats:
        time = ms if size > 0 else None
        seen = recorded.get(path)
        if seen == (size, time, 1):
            changes.unchanged += 1
            continue
        (changes.new if seen is None else changes.changed).append(path)
        changes.extract_bytes += size
        if time is None:
            changes.unscanned.append(path)
    listed = {path for path, _size, _ms in stats}
    changes.deleted = [path for path in recorded if path not in listed]
    for paths in (changes.new, changes.changed, changes.deleted, changes.unscanned):
        paths.sort()
    return changes


def plan(changes: Changes, size: int) -> list[tuple[list[str], bool]]:
    """The batches to commit, as (paths, replace): changed paths first (MERGE: they replace rows), then new ones
    (absent from both tables: a plain insert). Each batch holds at most `size` paths (size > 0)."""
    return [(paths, True) for paths in batches(changes.changed, size)] + \
        [(paths, False) for paths in batches(changes.new, size)]


def batches(paths: list[str], size: int) -> list[list[str]]:
    """Consecutive slices of at most `size` paths (size > 0)."""
    return [paths[i:i + size] for i in range(0, len(paths), size)]
