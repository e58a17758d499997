"""The visual vocabulary fit (OpenCV k-means on descriptor bits) and the fit data's partition count, without Spark."""

import numpy as np
import pytest

from fruit_pipeline.imaging.visual_words import fit_vocabulary, unpack_bits
from fruit_pipeline.stages.reduction import FIT_ROWS_PER_PARTITION, fit_partitions


def _clustered(n_per: int, patterns: np.ndarray, flips: int, seed: int = 0) -> np.ndarray:
    """n_per descriptors per 32-byte pattern, each with `flips` random bits flipped."""
    rng = np.random.default_rng(seed)
    rows = []
    for pattern in patterns:
        bits = np.tile(np.unpackbits(pattern), (n_per, 1))
        for row in bits:
            row[rng.choice(256, flips, replace=False)] ^= 1
        rows.append(np.packbits(bits, axis=1))
    return np.vstack(rows)


def test_three_separated_groups_give_their_patterns_as_centres():
    patterns = np.random.default_rng(1).integers(0, 256, (3, 32), dtype=np.uint8)
    desc = _clustered(50, patterns, flips=8)
    keys = [f"Training/A/{i}.jpg" for i in range(len(desc))]
    centres = fit_vocabulary(keys, np.zeros(len(desc), np.int32), desc, k=3, max_iter=20, seed=42)
    assert centres.shape == (3, 256) and centres.dtype == np.float32
    found = {tuple((c > 0.5).astype(np.uint8)) for c in centres}
    assert found == {tuple(np.unpackbits(p)) for p in patterns}
    # each centre is its group's mean: 8 of 256 bits flipped per row -> every bit agrees with the pattern >= 50 % of rows
    assert np.all(np.abs(centres - np.round(centres)) < 0.5)


def test_the_centres_do_not_depend_on_the_row_order():
    desc = np.random.default_rng(2).integers(0, 256, (400, 32), dtype=np.uint8)
    keys = [f"Training/L{i % 7}/{i}.jpg" for i in range(400)]
    index = np.arange(400, dtype=np.int32) % 5
    a = fit_vocabulary(keys, index, desc, k=8, max_iter=10, seed=7)
    order = np.random.default_rng(3).permutation(400)
    b = fit_vocabulary([keys[i] for i in order], index[order], desc[order], k=8, max_iter=10, seed=7)
    np.testing.assert_array_equal(a, b)
    c = fit_vocabulary(keys, index, desc, k=8, max_iter=10, seed=8)
    assert not np.array_equal(a, c)  # the seed is used


def test_fewer_descriptors_than_words_give_one_centre_each():
    desc = np.random.default_rng(4).integers(0, 256, (3, 32), dtype=np.uint8)
    centres = fit_vocabulary(["a", "b", "c"], np.zeros(3, np.int32), desc, k=64, max_iter=5, seed=1)
    assert sorted(map(tuple, centres)) == sorted(map(tuple, unpack_bits(desc)))


def test_no_descriptors_is_a_clear_error():
    with pytest.raises(ValueError, match="no descriptors"):
        fit_vocabulary([], np.zeros(0, np.int32), np.zeros((0, 32), np.uint8), k=4, max_iter=5, seed=1)


@pytest.mark.parametrize("rows, partitions", [(0, 1), (1, 1), (FIT_ROWS_PER_PARTITION, 1),
                                              (FIT_ROWS_PER_PARTITION + 1, 2), (10 * FIT_ROWS_PER_PARTITION, 10)])
def test_fit_partitions_grow_with_the_rows_only(rows, partitions):
    assert fit_partitions(rows) == partitions
