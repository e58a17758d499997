"""Decode image bytes to 8-bit BGR, normalising grayscale, alpha, 16-bit and CMYK input."""

from __future__ import annotations

import io
import warnings

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


def probe(data: bytes) -> tuple[str, int, int]:
    """Read only the header: (format, width, height). Raises ImageError for non-images."""
    if not data:
        raise ImageError("decode", "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format or "?", img.size
    except UnidentifiedImageError:
        raise ImageError("decode", f"not a recognised image ({len(data)} bytes, starts {data[:8].hex()})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("decode", "image header declares a decompression bomb") from None
    except Exception as exc:  # Pillow raises assorted errors on broken headers
        raise ImageError("decode", f"unreadable image header: {type(exc).__name__}: {exc}") from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageError("decode", f"unsupported image format {fmt}")
    return fmt, width, height


def _jpeg_complete(data: bytes) -> bool:
    """A complete JPEG ends with the EOI marker (trailing NUL padding tolerated)."""
    return data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")


def _png_complete(data: bytes) -> bool:
    """A complete PNG carries its IEND chunk."""
    return b"IEND" in data[-64:]


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
    """Bytes -> HxWx3 uint8 BGR. Raises ImageError with a reason for anything unusable."""
    fmt, width, height = probe(data)
    if width * height > max_pixels:
        raise ImageError("decode", f"image too large: {width}x{height} = {width * height} pixels > max_pixels {max_pixels}")
    if fmt in ("JPEG", "MPO") and not _jpeg_complete(data):
        raise ImageError("decode", "truncated JPEG (no end-of-image marker)")
    if fmt == "PNG" and not _png_complete(data):
        raise ImageError("decode", "truncated PNG (no IEND chunk)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise ImageError("decode", f"OpenCV could not decode this {fmt} (corrupt data)")
    return _to_bgr8(img)
