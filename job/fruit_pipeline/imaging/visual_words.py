"""Visual words for binary ORB descriptors: bits as 0/1 vectors, nearest centre, per-image histogram."""

from __future__ import annotations

import numpy as np

from .orb import DESCRIPTOR_BYTES

BITS = DESCRIPTOR_BYTES * 8


def unpack_bits(descriptors: np.ndarray) -> np.ndarray:
    """N x 32 uint8 -> N x 256 float32 of 0/1 (Euclidean distance^2 on these = Hamming distance)."""
    return np.unpackbits(descriptors.reshape(-1, DESCRIPTOR_BYTES), axis=1).astype(np.float32)


def nearest_word(bits: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each row (squared Euclidean distance, ties to the lowest index)."""
    if len(bits) == 0:
        return np.zeros(0, np.int64)
    centres = centres.astype(np.float64)
    d2 = (centres ** 2).sum(1)[None, :] - 2.0 * bits.astype(np.float64) @ centres.T
    return d2.argmin(axis=1)


def bovw_histograms(descriptors: np.ndarray, counts: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """L1-normalised word histograms (len(counts) x k) for images whose descriptors are stacked in order."""
    k = len(centres)
    words = nearest_word(unpack_bits(descriptors), centres)
    image = np.repeat(np.arange(len(counts)), counts)
    hist = np.bincount(image * k + words, minlength=len(counts) * k).reshape(len(counts), k).astype(np.float32)
    totals = hist.sum(axis=1, keepdims=True)
    return np.divide(hist, totals, out=np.zeros_like(hist), where=totals > 0)
