"""Which files under a bank are images to process and which are skipped, and why (pure, no Spark).

A file is named by its path relative to the bank root, folders separated by `/`. The rules are the same
for `run` (the manifest counts every skip by reason) and `upload` (junk is never sent).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

IMAGE_NAME = re.compile(r"\.(jpe?g|png)$", re.IGNORECASE)
# Hadoop glob matching the image extensions in any case, for Spark's pathGlobFilter.
IMAGE_GLOB = "*.{[jJ][pP][gG],[jJ][pP][eE][gG],[pP][nN][gG]}"

APPLEDOUBLE = "macOS AppleDouble file (._*)"
MACOSX = "macOS archive metadata (__MACOSX/)"
CHECKPOINT = "Jupyter checkpoint (.ipynb_checkpoints/)"
SYSTEM_FILE = "system metadata file (.DS_Store, Thumbs.db, desktop.ini)"
HIDDEN = "hidden name (starts with . or _; Spark's file index skips it)"
DANGLING = "dangling symbolic link"
NOT_IMAGE = "not an image file name (.jpg, .jpeg, .png)"
NOT_INDEXED = "not in Spark's file index"

JUNK_REASONS = (MACOSX, CHECKPOINT, APPLEDOUBLE, SYSTEM_FILE)
SYSTEM_FILES = {".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini"}


def is_image_name(path: str) -> bool:
    return bool(IMAGE_NAME.search(path))


def spark_hides(name: str) -> bool:
    """Spark's own rule (HadoopFSUtils.shouldFilterOutPathName) for one file or folder name."""
    exclude = (name.startswith("_") and "=" not in name) or name.startswith(".") or name.endswith("._COPYING_")
    return exclude and not (name.startswith("_common_metadata") or name.startswith("_metadata"))


def junk_reason(rel_path: str) -> str | None:
    """Why a file is operating-system or tool clutter (never an image of the bank), or None."""
    parts = rel_path.strip("/").split("/")
    folders, name = parts[:-1], parts[-1]
    if "__MACOSX" in folders:
        return MACOSX
    if ".ipynb_checkpoints" in folders:
        return CHECKPOINT
    if name.startswith("._"):
        return APPLEDOUBLE
    if name.lower() in SYSTEM_FILES:
        return SYSTEM_FILE
    return None


def skip_reason(rel_path: str, dangling: bool = False) -> str | None:
    """Why `run` skips this file (relative to the bank root), or None when it is an image to process."""
    reason = junk_reason(rel_path)
    if reason is not None:
        return reason
    if dangling:
        return DANGLING
    if any(spark_hides(part) for part in rel_path.strip("/").split("/")):
        return HIDDEN
    if not is_image_name(rel_path):
        return NOT_IMAGE
    return None


@dataclass
class Skips:
    """Files under the bank that were not processed, counted by reason, with a few examples each."""

    by_reason: Counter = field(default_factory=Counter)
    image_files: int = 0  # skipped files whose name has an image extension
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rel_path: str, reason: str) -> None:
        self.by_reason[reason] += 1
        self.image_files += is_image_name(rel_path)
        shown = self.examples.setdefault(reason, [])
        if len(shown) < MAX_EXAMPLES:
            shown.append(rel_path)

    @property
    def files(self) -> int:
        return sum(self.by_reason.values())

    def as_dict(self) -> dict:
        """The manifest's `skipped` section."""
        return {"files": self.files, "image_files": self.image_files,
                "by_reason": dict(sorted(self.by_reason.items())),
                "examples": {k: self.examples[k] for k in sorted(self.examples)}}

    def summary(self) -> str:
        """One line: `3 skipped (2 macOS AppleDouble file (._*), 1 dangling symbolic link)`, or ''."""
        if not self.files:
            return ""
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.by_reason.items()))
        return f"{self.files} skipped ({parts})"


MAX_EXAMPLES = 5
