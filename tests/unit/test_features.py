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


def test_unpacked_bit_distance_is_hamming_distance():
    from fruit_pipeline.imaging.visual_words import unpack_bits
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (2, 32), dtype=np.uint8)
    hamming = int(np.unpackbits(a ^ b).sum())
    bits = unpack_bits(np.stack([a, b]))
    assert bits.shape == (2, 256) and ((bits[0] - bits[1]) ** 2).sum() == hamming


def test_bovw_histograms_assign_nearest_words_and_normalise():
    from fruit_pipeline.imaging.visual_words import bovw_histograms
    zeros, ones = np.zeros((1, 32), np.uint8), np.full((1, 32), 255, np.uint8)
    centres = np.stack([np.zeros(256), np.ones(256), np.full(256, 0.5)]).astype(np.float32)
    desc = np.concatenate([zeros, zeros, ones, ones, zeros])  # image 0: 3 descriptors, image 1: 0, image 2: 2
    hist = bovw_histograms(desc, np.array([3, 0, 2]), centres)
    assert hist.shape == (3, 3)
    np.testing.assert_allclose(hist[0], [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(hist[1], [0, 0, 0])
    np.testing.assert_allclose(hist[2], [0.5, 0.5, 0])


def test_classification_metrics_from_a_confusion_matrix():
    from fruit_pipeline.classification_metrics import confusion_matrix, summary
    m = confusion_matrix([(0, 0, 8), (0, 1, 2), (1, 1, 10), (2, 2, 5), (2, 0, 5), (3, 0, 1)], 3)
    assert m.tolist() == [[8, 2, 0], [0, 10, 0], [5, 0, 5]]  # index 3 (unseen label) dropped
    s = summary(m, ["a", "b", "c"])
    assert s["accuracy"] == 23 / 30 and s["test_rows"] == 30
    assert s["per_class_recall"] == {"a": 0.8, "b": 1.0, "c": 0.5}
    f1 = [2 * (8 / 13) * 0.8 / (8 / 13 + 0.8), 2 * (10 / 12) / (10 / 12 + 1), 2 * 0.5 / 1.5]
    assert abs(s["macro_f1"] - sum(f1) / 3) < 1e-12


def test_spark_status_summary_counts_lost_executors_and_failed_tasks():
    from fruit_pipeline.observability.spark_status import summarise
    executors = [{"id": "driver", "isActive": True, "totalTasks": 0},
                 {"id": "0", "isActive": True, "totalTasks": 7},
                 {"id": "1", "isActive": False, "totalTasks": 3, "removeReason": "worker lost"}]
    stages = [{"stageId": 0, "attemptId": 0, "status": "FAILED", "numCompleteTasks": 4, "numFailedTasks": 2,
               "numKilledTasks": 0, "executorRunTime": 1500, "executorCpuTime": 1_250_000_000},
              {"stageId": 0, "attemptId": 1, "status": "COMPLETE", "numCompleteTasks": 2, "numFailedTasks": 1,
               "numKilledTasks": 1, "executorRunTime": 250, "executorCpuTime": 5_000_000},
              {"stageId": 1, "attemptId": 0, "status": "COMPLETE", "numCompleteTasks": 3}]
    s = summarise(executors, stages)
    assert s == {"executors": 2, "executors_lost": 1, "lost_executors": ["1"], "lost_reasons": ["worker lost"],
                 "completed_tasks": 9, "failed_tasks": 3, "killed_tasks": 1, "stage_attempts_retried": 1,
                 "failed_stage_attempts": 1, "tasks_by_executor": {"0": 7, "1": 3},
                 "executor_run_time_s": 1.75, "executor_cpu_time_s": 1.255}