"""ORB keypoints and binary descriptors (OpenCV), one detector reused per batch."""

from __future__ import annotations

import cv2
import numpy as np

from ..config import OrbConfig

DESCRIPTOR_BYTES = 32


def make_detector(cfg: OrbConfig) -> cv2.ORB:
    return cv2.ORB_create(
        nfeatures=cfg.n_features,
        scaleFactor=cfg.scale_factor,
        nlevels=cfg.n_levels,
        edgeThreshold=cfg.edge_threshold,
        patchSize=cfg.patch_size,
        fastThreshold=cfg.fast_threshold,
    )


def detect(detector: cv2.ORB, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (keypoints as N x 4 float32 [x, y, size, angle], descriptors as N x 32 uint8).

    ORB finds nothing within `edgeThreshold` pixels of the border, so an image whose shorter side is at most
    twice that has no keypoints; it is not handed to OpenCV, whose pyramid fails on such sizes (e.g. 1 x 64)."""
    if min(bgr.shape[:2]) <= 2 * detector.getEdgeThreshold():
        return np.zeros((0, 4), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    keypoints, descriptors = detector.detectAndCompute(gray, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 4), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    points = np.array([(k.pt[0], k.pt[1], k.size, k.angle) for k in keypoints], np.float32)
    return points, descriptors


def descriptors_from_bytes(blob: bytes | None) -> np.ndarray:
    """The stored `descriptors` column (N*32 bytes) back to an N x 32 uint8 array."""
    if not blob:
        return np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    return np.frombuffer(blob, np.uint8).reshape(-1, DESCRIPTOR_BYTES)
