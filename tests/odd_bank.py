"""A bank laid out as people really have one: odd names, junk, hidden folders, aliases (builders for tests)."""

from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from fruit_pipeline.bank_files import (APPLEDOUBLE, CHECKPOINT, DANGLING, HIDDEN, MACOSX, NOT_IMAGE,
                                       SYSTEM_FILE)
from torture import jpeg, png, textured

PECHE_NFD = unicodedata.normalize("NFD", "Pêche 1")
PECHE_NFC = unicodedata.normalize("NFC", "Pêche 1")

# relative path -> (label, split) of the feature row it must give
IMAGES = {
    "Training/Apple%20Red/a.jpg": ("Apple%20Red", "Training"),
    "Training/Apple Red/b.jpg": ("Apple Red", "Training"),
    "Training/Kiwi/2024-05-01T10:15:00.jpg": ("Kiwi", "Training"),
    "Training/Kiwi/x[1]{a,b}.jpg": ("Kiwi", "Training"),
    "val/Kiwi/c.jpg": ("Kiwi", "Validation"),
    "TESTING/Kiwi/d.jpg": ("Kiwi", "Test"),
    f"Training/{PECHE_NFD}/e.jpg": (PECHE_NFC, "Training"),
    f"test/{PECHE_NFC}/f.jpg": (PECHE_NFC, "Test"),
    "Training/kiwi /g.jpg": ("kiwi ", "Training"),
    "Training/100%/h.jpg": ("100%", "Training"),
    "Training/Kiwi/motion-photo.jpg": ("Kiwi", "Training"),
    "Training/Kiwi/portrait.jpg": ("Kiwi", "Training"),
    "Training/Kiwi/thin.png": ("Kiwi", "Training"),
}
# relative path -> (width, height) of images that are not 100x100 as decoded
DIMENSIONS = {"Training/Kiwi/portrait.jpg": (60, 100), "Training/Kiwi/thin.png": (64, 1)}
# relative path -> reason it is skipped (written as a small file)
SKIPPED = {
    "Training/_Unsorted/i.jpg": HIDDEN,
    "Training/Kiwi/._c.jpg": APPLEDOUBLE,
    "__MACOSX/Training/Kiwi/._c.jpg": MACOSX,
    "Training/Kiwi/.ipynb_checkpoints/c-checkpoint.jpg": CHECKPOINT,
    "Training/Kiwi/.DS_Store": SYSTEM_FILE,
    "Training/Kiwi/Thumbs.db": SYSTEM_FILE,
    "Training/Kiwi/notes.txt": NOT_IMAGE,
}
DANGLING_LINK = "Training/Kiwi/moved.jpg"


@dataclass
class OddBank:
    root: Path
    images: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason in self.skipped.values():
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    @property
    def skipped_images(self) -> int:
        return sum(rel.endswith(".jpg") for rel in self.skipped)


def write_odd_bank(root: Path, dangling_link: bool = True) -> OddBank:
    """Write the odd bank under `root`; the dangling link only where links exist (local disk)."""
    bank = OddBank(root, dict(IMAGES), dict(SKIPPED))
    for i, rel in enumerate(IMAGES):
        _write(root / rel, SPECIAL[rel]() if rel in SPECIAL else jpeg(textured(i)))
    for rel in SKIPPED:
        _write(root / rel, jpeg(textured(99)) if "checkpoint" in rel or "_Unsorted" in rel else b"\0\5\26\7junk")
    if dangling_link:
        os.symlink(root / "nowhere.jpg", root / DANGLING_LINK)
        bank.skipped[DANGLING_LINK] = DANGLING
    return bank


def _portrait() -> bytes:
    """A phone portrait photo: stored 100 wide x 60 high with EXIF Orientation 6 (shown 60 x 100)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(textured(20)[:60, :, ::-1].copy()).save(buf, "JPEG", quality=95, exif=exif)
    return buf.getvalue()


SPECIAL = {
    "Training/Kiwi/motion-photo.jpg": lambda: jpeg(textured(21)) + b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 40,
    "Training/Kiwi/portrait.jpg": _portrait,
    "Training/Kiwi/thin.png": lambda: png(textured(22)[:1, :64].copy()),
}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
