"""Label and split from a Fruits-360 path: `<...>/<Split>/<Label>/<name>.jpg`.

The label is the parent folder's name exactly as stored (never URL-decoded), NFC-normalised so that names
written decomposed (NFD, as macOS archives do) and composed are one label. The split is the grandparent
folder, recognised by its usual names in any case.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

from ..bank_files import IMAGE_GLOB, IMAGE_NAME, is_image_name

__all__ = ["IMAGE_GLOB", "IMAGE_NAME", "is_image_name", "label_and_split", "split_of", "label_twins",
           "SPLIT_ALIASES", "TRAINING", "TEST", "VALIDATION", "UNSPLIT"]

TRAINING, TEST, VALIDATION, UNSPLIT = "Training", "Test", "Validation", "unsplit"
SPLIT_ALIASES = {
    "training": TRAINING, "train": TRAINING,
    "test": TEST, "testing": TEST,
    "validation": VALIDATION, "val": VALIDATION, "valid": VALIDATION,
}


def split_of(folder: str) -> str:
    """The split a folder name stands for (any case, surrounding spaces ignored), else `unsplit`."""
    return SPLIT_ALIASES.get(unicodedata.normalize("NFC", folder).strip().casefold(), UNSPLIT)


def label_and_split(path: str) -> tuple[str, str]:
    """(label, split) from the parent and grandparent folder of a file path or URI."""
    parts = [p for p in path.rstrip("/").split("/") if p]
    label = unicodedata.normalize("NFC", parts[-2]) if len(parts) >= 2 else ""
    split = split_of(parts[-3]) if len(parts) >= 3 else UNSPLIT
    return label, split


def no_training_message(top_folders: set[str]) -> str:
    """One line for a bank without a Training split, naming the top-level folders that were found."""
    found = ", ".join(repr(f) for f in sorted(top_folders)) or "none (images directly in the input folder)"
    return (f"no Training images: the vocabulary and PCA are fitted on the Training split only; top-level folders "
            f"found: {found} (split folders are named Training/train, Test/testing or Validation/val/valid, "
            f"any case, each holding one folder per label)")


def label_twins(labels: list[str]) -> list[list[str]]:
    """Groups of distinct labels that differ only by case or surrounding whitespace, sorted."""
    groups: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        groups[label.strip().casefold()].add(label)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)
