"""One Arrow batch of (path, content) -> one Arrow batch of features or error rows.

This is the per-image work of the pipeline, vectorised per batch: one ORB detector per batch,
columns built from NumPy buffers. It imports no Spark; the Spark stage only wraps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pyarrow as pa

from ..config import ExtractionConfig
from . import colour, orb
from .decode import ImageError, decode
from .labels import label_and_split

KEYPOINT_TYPE = pa.struct([("x", pa.float32()), ("y", pa.float32()), ("size", pa.float32()), ("angle", pa.float32())])


def output_schema(cfg: ExtractionConfig) -> pa.Schema:
    """Arrow schema of what `extract_batch` returns (the Spark schema is derived from it)."""
    fields = [
        pa.field("path", pa.string(), False),
        pa.field("label", pa.string(), False),
        pa.field("split", pa.string(), False),
        pa.field("file_bytes", pa.int64(), False),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("n_keypoints", pa.int32()),
        pa.field("keypoints", pa.list_(KEYPOINT_TYPE)),
        pa.field("descriptors", pa.list_(pa.binary())),
        pa.field("colour_hist", pa.list_(pa.float32())),
    ]
    if cfg.keep_pixels:
        fields.append(pa.field("pixels", pa.binary()))
    fields += [pa.field("error_stage", pa.string()), pa.field("error_reason", pa.string())]
    return pa.schema(fields)


@dataclass
class _Columns:
    """Growing per-batch buffers; one entry per input image."""

    path: list = field(default_factory=list)
    label: list = field(default_factory=list)
    split: list = field(default_factory=list)
    file_bytes: list = field(default_factory=list)
    width: list = field(default_factory=list)
    height: list = field(default_factory=list)
    n_keypoints: list = field(default_factory=list)
    keypoints: list = field(default_factory=list)
    descriptors: list = field(default_factory=list)
    colour_hist: list = field(default_factory=list)
    pixels: list = field(default_factory=list)
    error_stage: list = field(default_factory=list)
    error_reason: list = field(default_factory=list)


def _flat_pixels(bgr: np.ndarray, size: int) -> bytes:
    """The seed design's flat RGB vector (size x size x 3 uint8, row-major)."""
    if bgr.shape[:2] != (size, size):
        bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).tobytes()


def _list_array(blocks: list[np.ndarray | None], values: pa.Array) -> pa.Array:
    """A list column whose i-th entry holds the rows of blocks[i] (null where blocks[i] is None)."""
    counts = [0 if b is None else len(b) for b in blocks]
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    mask = pa.array([b is None for b in blocks], pa.bool_())
    return pa.ListArray.from_arrays(offsets, values, mask=mask)


def _stack(blocks: list[np.ndarray | None], empty: np.ndarray) -> np.ndarray:
    present = [b for b in blocks if b is not None]
    return np.concatenate(present) if present else empty


def _descriptor_array(blocks: list[np.ndarray | None]) -> pa.Array:
    """list<binary>: one 32-byte binary per keypoint, built from one contiguous buffer."""
    data = _stack(blocks, np.zeros((0, orb.DESCRIPTOR_BYTES), np.uint8)).reshape(-1)
    n_desc = data.size // orb.DESCRIPTOR_BYTES
    value_offsets = np.arange(n_desc + 1, dtype=np.int32) * orb.DESCRIPTOR_BYTES
    values = pa.Array.from_buffers(pa.binary(), n_desc, [None, pa.py_buffer(value_offsets), pa.py_buffer(data)])
    return _list_array(blocks, values)


def _keypoint_array(blocks: list[np.ndarray | None]) -> pa.Array:
    pts = _stack(blocks, np.zeros((0, 4), np.float32))
    values = pa.StructArray.from_arrays([pa.array(pts[:, i]) for i in range(4)], fields=list(KEYPOINT_TYPE))
    return _list_array(blocks, values)


def _hist_array(hists: list[np.ndarray | None]) -> pa.Array:
    return _list_array(hists, pa.array(_stack(hists, np.zeros(0, np.float32)), pa.float32()))


def _append(cols: _Columns, **values) -> None:
    """Append one image's values; fields not given are null."""
    for name in _IMAGE_FIELDS:
        getattr(cols, name).append(values.get(name))


_IMAGE_FIELDS = ("width", "height", "n_keypoints", "keypoints", "descriptors", "colour_hist", "pixels",
                 "error_stage", "error_reason")


def _add_error(cols: _Columns, err: ImageError) -> None:
    _append(cols, error_stage=err.stage, error_reason=err.reason)


def _add_image(cols: _Columns, data: bytes, detector: cv2.ORB, cfg: ExtractionConfig) -> None:
    bgr = decode(data, cfg.max_pixels)
    try:
        points, desc = orb.detect(detector, bgr)
        hist = colour.histogram(bgr, cfg.colour)
        pixels = _flat_pixels(bgr, cfg.pixel_size) if cfg.keep_pixels else None
    except cv2.error as exc:
        raise ImageError("features", opencv_reason(exc, bgr)) from None
    _append(cols, width=bgr.shape[1], height=bgr.shape[0], n_keypoints=len(desc), keypoints=points,
            descriptors=desc, colour_hist=hist, pixels=pixels)


def opencv_reason(exc: cv2.error, bgr: np.ndarray) -> str:
    """A plain one-line reason: the image size and OpenCV's message without its source-file location."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    message = text.split(" error: ", 1)[-1]
    return f"OpenCV failed on a {bgr.shape[1]}x{bgr.shape[0]} image: {message}"


def extract_batch(paths: list[str], contents: list[bytes | None], cfg: ExtractionConfig,
                  detector: cv2.ORB | None = None) -> pa.RecordBatch:
    """Features for every image of the batch; failures become error rows, never exceptions."""
    detector = detector if detector is not None else orb.make_detector(cfg.orb)
    cols = _Columns()
    for path, data in zip(paths, contents):
        label, split = label_and_split(path)
        cols.path.append(path)
        cols.label.append(label)
        cols.split.append(split)
        cols.file_bytes.append(len(data) if data is not None else 0)
        try:
            if data is None:
                raise ImageError("read", "file content missing")
            _add_image(cols, data, detector, cfg)
        except ImageError as err:
            _add_error(cols, err)
        except Exception as exc:  # noqa: BLE001 - a bad image must never fail the task
            _add_error(cols, ImageError("features", f"{type(exc).__name__}: {exc}"))
    return _to_record_batch(cols, cfg)


def _to_record_batch(cols: _Columns, cfg: ExtractionConfig) -> pa.RecordBatch:
    schema = output_schema(cfg)
    arrays = {
        "path": pa.array(cols.path, pa.string()),
        "label": pa.array(cols.label, pa.string()),
        "split": pa.array(cols.split, pa.string()),
        "file_bytes": pa.array(cols.file_bytes, pa.int64()),
        "width": pa.array(cols.width, pa.int32()),
        "height": pa.array(cols.height, pa.int32()),
        "n_keypoints": pa.array(cols.n_keypoints, pa.int32()),
        "keypoints": _keypoint_array(cols.keypoints),
        "descriptors": _descriptor_array(cols.descriptors),
        "colour_hist": _hist_array(cols.colour_hist),
        "pixels": pa.array(cols.pixels, pa.binary()),
        "error_stage": pa.array(cols.error_stage, pa.string()),
        "error_reason": pa.array(cols.error_reason, pa.string()),
    }
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
