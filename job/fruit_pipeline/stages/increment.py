"""What an append has to do: the bank's files against the tables' rows, by (path, size, modification time). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Source:
    """A file's identity: size in bytes and modification time in ms since the epoch (None: not recorded)."""

    file_bytes: int
    mtime_ms: int | None


@dataclass
class Changes:
    """The bank against the tables: paths to extract (new, changed), paths gone (deleted), and the rest."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def to_extract(self) -> list[str]:
        """New and changed paths, sorted (a rerun walks them in the same order)."""
        return sorted(self.new + self.changed)

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "changed": len(self.changed), "deleted": len(self.deleted),
                "unchanged": self.unchanged}


def classify(listed: Mapping[str, Source], recorded: Mapping[str, Source], in_both: set[str] = frozenset()) -> Changes:
    """Sort every path: listed only -> new; both with another size or mtime -> changed; recorded only -> deleted.
    A path found in both tables (an append killed between its two commits) counts as changed: it is redone."""
    changes = Changes()
    for path, source in listed.items():
        seen = recorded.get(path)
        if seen is None:
            changes.new.append(path)
        elif seen != source or path in in_both:
            changes.changed.append(path)
        else:
            changes.unchanged += 1
    changes.deleted = sorted(set(recorded) - set(listed))
    changes.new.sort()
    changes.changed.sort()
    return changes


def batches(paths: list[str], size: int) -> list[list[str]]:
    """Consecutive slices of at most `size` paths (size > 0)."""
    return [paths[i:i + size] for i in range(0, len(paths), size)]
