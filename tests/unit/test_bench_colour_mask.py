"""The tuned (OpenCV) foreground mask equals its definition for every saturation/value pair."""
import numpy as np

from fruit_pipeline.imaging.colour import BACKGROUND_MAX_SATURATION, BACKGROUND_MIN_VALUE, foreground_mask


def test_mask_matches_the_definition_for_all_s_v_pairs():
    s, v = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    hue = (s * 7 + v) % 180
    hsv = np.stack([hue, s, v], axis=-1).astype(np.uint8)
    want = np.where((s < BACKGROUND_MAX_SATURATION) & (v > BACKGROUND_MIN_VALUE), 0, 255).astype(np.uint8)
    got = foreground_mask(hsv)
    assert got.dtype == np.uint8 and got.shape == (256, 256)
    assert np.array_equal(got, want)
    assert got[29, 221] == 0 and got[30, 221] == 255 and got[29, 220] == 255
