"""Decode image bytes to upright 8-bit BGR, normalising grayscale, alpha, 16-bit and CMYK input.

Completeness is judged by the file's own structure (the JPEG's end-of-image marker after its scans, the
PNG's IEND chunk), so data appended after the image (a phone's Motion Photo video) does not matter.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

SUPPORTED_FORMATS = ("JPEG", "PNG", "MPO")


class ImageError(Exception):
    """An image that cannot become features; `stage` says where it failed."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


class Header(NamedTuple):
    """What the header says: format, stored width and height (pixels), EXIF orientation (1-8, 1 = upright)."""

    format: str
    width: int
    height: int
    orientation: int = 1


def _orientation(img: Image.Image) -> int:
    try:
        value = int(img.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        return 1
    return value if value in ORIENT else 1


def probe(data: bytes) -> Header:
    """Read only the header: (format, width, height, orientation). Raises ImageError for non-images."""
    if not data:
        raise ImageError("decode", "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format or "?", img.size
                orientation = _orientation(img)
    except UnidentifiedImageError:
        raise ImageError("decode", f"not a recognised image ({len(data)} bytes, starts {data[:8].hex()})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("decode", "image header declares a decompression bomb") from None
    except Exception as exc:  # Pillow raises assorted errors on broken headers
        raise ImageError("decode", f"unreadable image header: {type(exc).__name__}: {exc}") from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageError("decode", f"unsupported image format {fmt}")
    return Header(fmt, width, height, orientation)


# In entropy-coded data 0xFF is followed by 0x00 (stuffing), 0xD0-0xD7 (restart) or 0xFF (fill); else a marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOS, _EOI = 0xDA, 0xD9
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg_complete(data: bytes) -> bool:
    """True when the JPEG's segments and scans reach its end-of-image marker (bytes after it are ignored)."""
    pos, end = 2, len(data)
    while pos + 2 <= end:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker == _EOI:
            return True
        elif marker in _STANDALONE:
            pos += 2
        elif pos + 4 > end:
            return False
        else:
            pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
            if marker == _SOS:
                found = _NEXT_MARKER.search(data, pos)
                if found is None:
                    return False
                pos = found.start()
    return False


def _png_complete(data: bytes) -> bool:
    """True when walking the PNG's chunks from the signature reaches a whole IEND chunk (bytes after it ignored)."""
    pos, end = 8, len(data)
    while pos + 8 <= end:
        chunk_end = pos + 12 + int.from_bytes(data[pos:pos + 4], "big")  # length, type, data, CRC
        if data[pos + 4:pos + 8] == b"IEND":
            return chunk_end <= end
        pos = chunk_end
    return False


EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the operation that shows the stored pixels upright (as Pillow's ImageOps.exif_transpose).
ORIENT = {
    1: lambda img: img,
    2: lambda img: cv2.flip(img, 1),
    3: lambda img: cv2.rotate(img, cv2.ROTATE_180),
    4: lambda img: cv2.flip(img, 0),
    5: cv2.transpose,
    6: lambda img: cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE),
    7: lambda img: cv2.rotate(cv2.transpose(img), cv2.ROTATE_180),
    8: lambda img: cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any OpenCV decode result (gray, gray+alpha, BGR, BGRA; 8/16-bit) -> 8-bit BGR on white."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:
        img = cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR), img[:, :, 1]
        return _composite_on_white(*img)
    if channels == 4:
        return _composite_on_white(img[:, :, :3], img[:, :, 3])
    return img


def _composite_on_white(bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend over a white background, as Fruits-360 photos are shot."""
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return (bgr.astype(np.float32) * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)


def decode(data: bytes, max_pixels: int) -> np.ndarray:
    """Bytes -> HxWx3 uint8 BGR, upright as its EXIF orientation says. Raises ImageError for anything unusable."""
    fmt, width, height, orientation = probe(data)
    if width * height > max_pixels:
        raise ImageError("decode", f"image too large: {width}x{height} = {width * height} pixels > max_pixels {max_pixels}")
    if fmt in ("JPEG", "MPO") and not _jpeg_complete(data):
        raise ImageError("decode", "truncated JPEG (no end-of-image marker)")
    if fmt == "PNG" and not _png_complete(data):
        raise ImageError("decode", "truncated PNG (no IEND chunk)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise ImageError("decode", f"OpenCV could not decode this {fmt} (corrupt data)")
    return ORIENT[orientation](_to_bgr8(img))
