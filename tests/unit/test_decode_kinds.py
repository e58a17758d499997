"""Decoding faults by kind: data after the image, EXIF orientation, images too small for ORB (pure, no Spark)."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from fruit_pipeline.config import ExtractionConfig, OrbConfig
from fruit_pipeline.imaging.batch import extract_batch
from fruit_pipeline.imaging.decode import ImageError, decode, probe
from torture import jpeg, png, textured

MAX_PIXELS = 4096 * 4096
MP4_TAIL = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + np.random.default_rng(1).bytes(20_000)


def _pillow_jpeg(rgb: np.ndarray, orientation: int = 1, **save) -> bytes:
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95, exif=exif, **save)
    return buf.getvalue()


def _with_thumbnail(img: np.ndarray) -> bytes:
    """A JPEG whose EXIF block carries a thumbnail JPEG (its own SOI...EOI) before the main image."""
    thumb = jpeg(cv2.resize(img, (16, 16)))
    data = jpeg(img)
    # APP1 "Exif" segment wrapping the thumbnail bytes: enough for a marker walk to have to skip an inner EOI.
    payload = b"Exif\x00\x00" + thumb
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + app1 + data[2:]


TAILS = {"mp4 (Motion Photo)": MP4_TAIL, "second jpeg": jpeg(textured(5)), "zeros": b"\0" * 5000,
         "ff d9 bytes": b"\xff\xd9" * 100, "text": b"trailing text " * 10}
JPEGS = {"baseline": jpeg(textured(2)), "progressive": _pillow_jpeg(textured(3)[:, :, ::-1].copy(), progressive=True),
         "restart markers": cv2.imencode(".jpg", textured(4), [cv2.IMWRITE_JPEG_RST_INTERVAL, 2])[1].tobytes(),
         "exif thumbnail": _with_thumbnail(textured(6))}


@pytest.mark.parametrize("kind", JPEGS)
@pytest.mark.parametrize("tail", TAILS)
def test_jpeg_with_data_after_end_of_image_decodes_fully(kind, tail):
    whole = decode(JPEGS[kind], MAX_PIXELS)
    assert np.array_equal(decode(JPEGS[kind] + TAILS[tail], MAX_PIXELS), whole)


def _cut(data: bytes, keep: float) -> bytes:
    """A file cut short: its first `keep` share, or (keep < 0) all but its last -keep bytes."""
    return data[:keep] if keep < 0 else data[:int(len(data) * keep)]


@pytest.mark.parametrize("kind", JPEGS)
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, -2])
def test_truncated_jpeg_is_still_an_error(kind, keep):
    with pytest.raises(ImageError) as info:
        decode(_cut(JPEGS[kind], keep), MAX_PIXELS)
    assert (info.value.stage, info.value.reason) == ("decode", "truncated JPEG (no end-of-image marker)")


PNGS = {"rgb": png(textured(7)), "alpha": png(np.dstack([textured(8), np.full((100, 100), 99, np.uint8)])),
        "gray": png(cv2.cvtColor(textured(9), cv2.COLOR_BGR2GRAY))}


@pytest.mark.parametrize("kind", PNGS)
@pytest.mark.parametrize("tail", TAILS)
def test_png_with_data_after_iend_decodes_fully(kind, tail):
    assert np.array_equal(decode(PNGS[kind] + TAILS[tail], MAX_PIXELS), decode(PNGS[kind], MAX_PIXELS))


@pytest.mark.parametrize("kind", PNGS)
@pytest.mark.parametrize("keep", [0.5, 0.9, -12, -1])
def test_truncated_png_is_still_an_error(kind, keep):
    with pytest.raises(ImageError) as info:
        decode(_cut(PNGS[kind], keep), MAX_PIXELS)
    assert (info.value.stage, info.value.reason) == ("decode", "truncated PNG (no IEND chunk)")


def _upright() -> np.ndarray:
    """60 wide x 100 high RGB: flat quadrants, so every flip or rotation is visible after JPEG compression."""
    img = np.zeros((100, 60, 3), np.uint8)
    img[:50, :30] = (255, 0, 0)
    img[:50, 30:] = (0, 255, 0)
    img[50:, :30] = (0, 0, 255)
    img[50:, 30:] = (255, 255, 0)
    return img


# EXIF orientation -> how the camera stored the upright picture (the inverse of what a viewer applies).
STORED = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
          5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, 1),
          7: lambda a: np.rot90(a, 2).transpose(1, 0, 2), 8: lambda a: np.rot90(a, -1)}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    upright = _upright()
    stored = np.ascontiguousarray(STORED[orientation](upright))
    data = _pillow_jpeg(stored, orientation)
    assert probe(data).orientation == orientation
    bgr = decode(data, MAX_PIXELS)
    assert bgr.shape == (100, 60, 3)
    assert np.abs(bgr[:, :, ::-1].astype(int) - upright).mean() < 4


def test_orientation_six_gives_upright_width_height_keypoints_and_pixels():
    upright = textured(11)[:, :60][:, :, ::-1].copy()  # 60x100 RGB with corners
    data = _pillow_jpeg(np.ascontiguousarray(np.rot90(upright, 1)), 6)  # stored 100 wide x 60 high
    assert probe(data)[1:3] == (100, 60)
    cfg = ExtractionConfig(keep_pixels=True)
    row = extract_batch(["file:/b/Training/A/p.jpg"], [data], cfg).to_pylist()[0]
    assert row["error_stage"] is None and (row["width"], row["height"]) == (60, 100)
    assert row["n_keypoints"] > 0
    assert all(kp["x"] < 60 and kp["y"] < 100 for kp in row["keypoints"])
    pixels = np.frombuffer(row["pixels"], np.uint8).reshape(100, 100, 3)
    want = cv2.resize(upright, (100, 100), interpolation=cv2.INTER_AREA)
    assert np.abs(pixels.astype(int) - want).mean() < 6


@pytest.mark.parametrize("height,width", [(1, 64), (64, 1), (1, 1), (2, 2), (20, 300), (300, 20), (21, 21)])
@pytest.mark.parametrize("encode", [jpeg, png])
def test_images_too_small_for_orb_are_feature_rows_without_keypoints(height, width, encode):
    img = np.random.default_rng(height * 1000 + width).integers(0, 200, (height, width, 3), dtype=np.uint8)
    row = extract_batch(["file:/b/Training/A/s.jpg"], [encode(img)], ExtractionConfig()).to_pylist()[0]
    assert row["error_stage"] is None, row["error_reason"]
    assert (row["width"], row["height"]) == (width, height)
    assert row["n_keypoints"] == len(row["descriptors"]) == len(row["keypoints"])
    if min(height, width) <= 2 * OrbConfig().edge_threshold:
        assert row["n_keypoints"] == 0
    assert abs(sum(row["colour_hist"]) - 1) < 1e-4


@pytest.mark.parametrize("edge", [5, 10, 31])
def test_no_keypoints_are_lost_by_the_size_rule(edge):
    """Just above the rule's limit ORB does find keypoints; at or below it, OpenCV finds none either."""
    import cv2 as cv
    detector = cv.ORB_create(edgeThreshold=edge, patchSize=edge)
    rng = np.random.default_rng(edge)
    for side in (2 * edge - 1, 2 * edge):
        gray = rng.integers(0, 255, (side, 400), dtype=np.uint8)
        assert detector.detect(gray, None) == ()


def test_opencv_failures_read_plainly():
    from fruit_pipeline.imaging.batch import opencv_reason
    exc = cv2.error("OpenCV(5.0.0) /io/opencv/modules/imgproc/src/resize.cpp:4220: error: (-215:Assertion failed) "
                    "inv_scale_x > 0 in function 'resize'\n")
    assert opencv_reason(exc, np.zeros((1, 64, 3), np.uint8)) == \
        "OpenCV failed on a 64x1 image: (-215:Assertion failed) inv_scale_x > 0 in function 'resize'"
