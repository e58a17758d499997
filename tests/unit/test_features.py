"""ORB, colour histogram and the per-batch extraction (pure, no Spark)."""

import numpy as np
import pyarrow as pa

from fruit_pipeline.config import ColourConfig, ExtractionConfig, OrbConfig
from fruit_pipeline.imaging import colour, orb
from fruit_pipeline.imaging.batch import extract_batch, output_schema
from torture import jpeg, textured, torture_files


def test_orb_descriptors_are_n_by_32_bytes():
    detector = orb.make_detector(OrbConfig())
    points, desc = orb.detect(detector, textured(0))
    assert desc.dtype == np.uint8 and desc.shape[1] == 32
    assert len(points) == len(desc) > 10


def test_orb_on_a_flat_image_is_a_valid_empty_result():
    points, desc = orb.detect(orb.make_detector(OrbConfig()), np.full((100, 100, 3), 255, np.uint8))
    assert points.shape == (0, 4) and desc.shape == (0, 32)


def test_smaller_edge_threshold_finds_more_keypoints_on_small_images():
    img = textured(0)
    default = orb.detect(orb.make_detector(OrbConfig(edge_threshold=31, patch_size=31)), img)[1]
    small = orb.detect(orb.make_detector(OrbConfig()), img)[1]
    assert len(small) > len(default)


def test_colour_histogram_ignores_white_and_sums_to_one():
    cfg = ColourConfig()
    img = np.full((50, 50, 3), 255, np.uint8)
    img[10:40, 10:40] = (0, 0, 255)  # pure red square in BGR
    hist = colour.histogram(img, cfg)
    assert hist.shape == (colour.n_bins(cfg),)
    assert abs(hist.sum() - 1.0) < 1e-5
    assert hist.argmax() // (cfg.s_bins * cfg.v_bins) == 0  # hue bin 0 = red
    assert hist.max() == 1.0


def test_colour_histogram_of_blank_image_is_zero():
    assert colour.histogram(np.full((20, 20, 3), 255, np.uint8), ColourConfig()).sum() == 0


def test_extract_batch_accounts_for_every_file():
    files = torture_files()
    names = list(files)
    batch = extract_batch([f"file:/b/Training/Mixed 1/{n}" for n in names], [files[n][0] for n in names],
                          ExtractionConfig())
    assert batch.schema == output_schema(ExtractionConfig())
    rows = batch.to_pylist()
    assert len(rows) == len(names)
    for name, row in zip(names, rows):
        expected_stage = files[name][1]
        assert row["error_stage"] == expected_stage, (name, row["error_reason"])
        assert row["label"] == "Mixed 1" and row["split"] == "Training"
        if expected_stage is None:
            assert row["n_keypoints"] == len(row["descriptors"]) == len(row["keypoints"])
            assert all(len(d) == 32 for d in row["descriptors"])
            assert row["width"] == 100 and len(row["colour_hist"]) == 256
        else:
            assert row["error_reason"] and row["descriptors"] is None
    white = rows[names.index("white.jpg")]
    assert white["n_keypoints"] == 0 and white["descriptors"] == []


def test_descriptor_bytes_round_trip():
    img = textured(7)
    detector = orb.make_detector(OrbConfig())
    _, desc = orb.detect(detector, img)
    row = extract_batch(["file:/x/Test/A/a.jpg"], [jpeg(img)], ExtractionConfig(), detector).to_pylist()[0]
    decoded = orb.detect(detector, __import__("fruit_pipeline.imaging.decode", fromlist=["decode"]).decode(jpeg(img), 10**8))[1]
    assert b"".join(row["descriptors"]) == decoded.tobytes()
    assert orb.descriptors_from_bytes(b"".join(row["descriptors"])).shape == (row["n_keypoints"], 32)


def test_keep_pixels_stores_the_seed_vector():
    cfg = ExtractionConfig(keep_pixels=True)
    row = extract_batch(["file:/x/Test/A/a.png"], [jpeg(textured(1))], cfg).to_pylist()[0]
    assert len(row["pixels"]) == 100 * 100 * 3
    assert "pixels" in output_schema(cfg).names and "pixels" not in output_schema(ExtractionConfig()).names


def test_empty_batch():
    batch = extract_batch([], [], ExtractionConfig())
    assert batch.num_rows == 0 and isinstance(batch, pa.RecordBatch)
