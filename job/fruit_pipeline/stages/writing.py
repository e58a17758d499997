"""Where the outputs go and how their Parquet data files are encoded (the tables themselves: `feature_table`)."""

from __future__ import annotations

from . import fs


def models_uri(output: str) -> str:
    return fs.join(output, "models")


# Per-keypoint / per-bin values are nearly all distinct: Parquet's dictionary encoder only burns CPU on them before
# falling back to plain encoding (measured on 5k rows: ~25 % less JVM CPU for the write, files 1 % smaller).
# Keys are Parquet column paths (Spark writes lists as `<column>.list.element`); absent columns are ignored.
NO_DICTIONARY_COLUMNS = ("descriptors.list.element", "keypoints.list.element.x", "keypoints.list.element.y",
                         "keypoints.list.element.size", "keypoints.list.element.angle", "colour_hist.list.element",
                         "bovw.list.element", "features.list.element", "pixels")
