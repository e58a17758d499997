"""Decoding and normalisation of good, odd and broken files (pure, no Spark)."""

import numpy as np
import pytest

from fruit_pipeline.imaging.decode import ImageError, decode, probe
from torture import torture_files

FILES = torture_files()
MAX_PIXELS = 4096 * 4096


@pytest.mark.parametrize("name", [n for n, (_, stage) in FILES.items() if stage is None])
def test_valid_images_become_8bit_bgr(name):
    img = decode(FILES[name][0], MAX_PIXELS)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[:2] == (100, 100)


@pytest.mark.parametrize("name,reason", [
    ("empty.jpg", "empty file"),
    ("truncated.jpg", "truncated JPEG"),
    ("random.jpg", "not a recognised image"),
    ("text.png", "not a recognised image"),
    ("huge.jpg", "image too large: 6000x6000"),
])
def test_bad_files_raise_with_reason(name, reason):
    with pytest.raises(ImageError) as info:
        decode(FILES[name][0], MAX_PIXELS)
    assert info.value.stage == "decode"
    assert reason in info.value.reason


def test_alpha_is_composited_on_white():
    from torture import png
    bgra = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    img = decode(png(bgra), MAX_PIXELS)
    assert (img == 255).all()


def test_sixteen_bit_keeps_the_high_byte():
    from torture import png
    deep = np.full((8, 8, 3), 0x8040, np.uint16)
    assert (decode(png(deep), MAX_PIXELS) == 0x80).all()


def test_grayscale_is_replicated_to_three_channels():
    from torture import png
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    img = decode(png(gray), MAX_PIXELS)
    assert (img[:, :, 0] == gray).all() and (img[:, :, 2] == gray).all()


def test_cmyk_jpeg_decodes_to_similar_colours():
    from torture import textured
    img = decode(FILES["cmyk.jpg"][0], MAX_PIXELS)
    assert np.abs(img.astype(int) - textured(1).astype(int)).mean() < 20


def test_probe_reads_header_only_dimensions():
    assert probe(FILES["huge.jpg"][0])[1:] == (6000, 6000, 1)


def test_pixel_guard_is_configurable():
    with pytest.raises(ImageError, match="max_pixels 9999"):
        decode(FILES["good.jpg"][0], 9999)
