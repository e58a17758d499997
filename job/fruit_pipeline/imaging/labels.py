"""Label and split from a Fruits-360 path: `<...>/<Split>/<Label>/<name>.jpg`."""

from __future__ import annotations

import re
from urllib.parse import unquote

IMAGE_NAME = re.compile(r"\.(jpe?g|png)$", re.IGNORECASE)
SPLITS = {"training": "Training", "test": "Test"}
UNSPLIT = "unsplit"
# Hadoop glob matching the image extensions in any case, for Spark's pathGlobFilter.
IMAGE_GLOB = "*.{[jJ][pP][gG],[jJ][pP][eE][gG],[pP][nN][gG]}"


def is_image_name(path: str) -> bool:
    return bool(IMAGE_NAME.search(path))


def label_and_split(path: str) -> tuple[str, str]:
    """(label, split) from the parent and grandparent folder; split is Training, Test or unsplit."""
    parts = [p for p in path.rstrip("/").split("/") if p]
    label = unquote(parts[-2]) if len(parts) >= 2 else ""
    grandparent = unquote(parts[-3]).lower() if len(parts) >= 3 else ""
    return label, SPLITS.get(grandparent, UNSPLIT)
