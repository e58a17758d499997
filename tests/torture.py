"""Builders for bad and unusual image files (the torture bank)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def jpeg(img: np.ndarray, quality: int = 95) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def textured(seed: int = 0, size: int = 100) -> np.ndarray:
    """A BGR image with plenty of corners."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    for _ in range(40):
        x, y = rng.integers(5, size - 5, 2)
        cv2.rectangle(img, (int(x), int(y)), (int(x) + 6, int(y) + 6), tuple(int(c) for c in rng.integers(0, 200, 3)), -1)
    return img


def cmyk_jpeg() -> bytes:
    rgb = Image.fromarray(cv2.cvtColor(textured(1), cv2.COLOR_BGR2RGB))
    buf = io.BytesIO()
    rgb.convert("CMYK").save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def huge_jpeg(side: int = 6000) -> bytes:
    return jpeg(np.full((side, side, 3), 200, np.uint8), quality=50)




def torture_files() -> dict[str, tuple[bytes, str | None]]:
    """name -> (content, expected error stage or None for a valid image)."""
    good = jpeg(textured(2))
    bgra = np.dstack([textured(3), np.full((100, 100), 128, np.uint8)])
    gray = cv2.cvtColor(textured(4), cv2.COLOR_BGR2GRAY)
    deep = (textured(5).astype(np.uint16) * 257)
    return {
        "good.jpg": (good, None),
        "UPPER.JPG": (jpeg(textured(6)), None),
        "alpha.png": (png(bgra), None),
        "gray.png": (png(gray), None),
        "gray.jpg": (jpeg(gray), None),
        "deep16.png": (png(deep), None),
        "cmyk.jpg": (cmyk_jpeg(), None),
        "white.jpg": (jpeg(np.full((100, 100, 3), 255, np.uint8)), None),
        "empty.jpg": (b"", "decode"),
        "truncated.jpg": (good[: len(good) // 2], "decode"),
        "random.jpg": (np.random.default_rng(9).bytes(2048), "decode"),
        "text.png": (b"this is not a png, it is text\n" * 20, "decode"),
        "huge.jpg": (huge_jpeg(), "decode"),
    }


def write_torture_bank(root: Path, label: str = "Mixed 1", split: str = "Training") -> dict[str, str | None]:
    """Write the torture files under root/split/label; returns name -> expected error stage."""
    folder = root / split / label
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (content, stage) in torture_files().items():
        (folder / name).write_bytes(content)
        expected[name] = stage
    (folder / "notes.txt").write_text("not an image extension: must be ignored")
    return expected
