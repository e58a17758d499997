"""The end-of-run summary and the evaluation's preconditions (pure)."""


def test_evaluation_preconditions_and_the_summary_line():
    from fruit_pipeline.observability.report import summary_table
    from fruit_pipeline.stages.evaluation import skip_reason

    assert skip_reason(0, 5) == "no Training images"
    assert skip_reason(3, 0) == "no Test images"
    assert skip_reason(1, 5) == "only 1 label in Training: a classifier needs at least 2"
    assert skip_reason(2, 1) is None
    manifest = {"counts": {"input_files": 4, "features_rows": 4, "error_rows": 0}, "durations_s": {},
                "images_per_s": 1.0, "output": "/o", "evaluation": {"skipped": "no Test images"}}
    (line,) = [ln for ln in summary_table(manifest).splitlines() if ln.startswith("evaluation ")]
    assert line.split(None, 1)[1] == "skipped: no Test images"


def test_summary_gives_time_rate_paths_and_first_errors():
    from fruit_pipeline.observability.report import summary_table

    manifest = {"counts": {"input_files": 9, "features_rows": 2, "error_rows": 7}, "errors_by_stage": {"decode": 7},
                "durations_s": {"list": 1.25}, "wall_time_s": 12.34, "images_per_s": 0.73, "output": "s3a://b/out/",
                "evaluation": {"accuracy": 0.5}, "errors_sample": [
                    {"path": f"file:/bank/Training/A/{i}.jpg", "stage": "decode", "reason": "not an image"}
                    for i in range(7)]}
    lines = summary_table(manifest).splitlines()
    rows = {ln[:16].strip(): ln[16:].strip() for ln in lines if not ln.startswith(" ") and "first errors" not in ln}
    assert rows["total time (s)"] == "12.3" and rows["images/s"] == "0.7" and rows["list (s)"] == "1.2"
    assert rows["manifest"] == "s3a://b/out/manifest.json" and rows["report"] == "s3a://b/out/report/index.html"
    assert rows["errors"] == "s3a://b/out/errors/" and rows["test accuracy"] == "0.500"
    i = lines.index("first errors (5 of 7):")
    assert lines[i + 1:] == [f"  {n}.jpg: decode: not an image" for n in range(5)]


def test_report_has_counts_errors_timings_parameters_and_a_sample_grid(tmp_path):
    import cv2
    import numpy as np
    from PIL import Image

    from fruit_pipeline.observability.report_plots import write_report

    img = np.full((100, 100, 3), 255, np.uint8)
    cv2.circle(img, (50, 50), 30, (0, 0, 200), -1)
    jpeg = cv2.imencode(".jpg", img)[1].tobytes()
    samples = [{"label": label, "path": f"/b/{label}/{i}.jpg", "content": jpeg, "keypoints": [(50.0, 20.0, 10.0)] * i}
               for label in ("Apple", "Kiwi") for i in range(3)]
    facts = {"counts": {"input files": 7, "feature rows": 6, "error rows": 1},
             "errors": [{"path": "file:/b/A/bad<1>.jpg", "stage": "decode", "reason": "truncated JPEG"}],
             "durations_s": {"list": 1.5, "extract": 12.25}, "parameters": {"reduction": {"pca_components": 32}}}
    aggregates = {"class_counts": [("Training", "Apple", 3), ("Training", "Kiwi", 3)], "keypoint_buckets": [(0, 6)]}
    names = write_report(tmp_path, aggregates, [], {"skipped": "no Test images"}, "t", facts, samples)
    assert names == ["class_counts.png", "keypoints.png", "samples.png", "index.html"]
    with Image.open(tmp_path / "samples.png") as grid:  # 2 classes x (label strip + 200 px), 3 tiles of 200 px
        assert grid.format == "PNG" and grid.size == (600, 2 * (22 + 200))
        pixels = np.asarray(grid.convert("RGB")).astype(int)
    green = (pixels[..., 1] > 200) & (pixels[..., 0] < 80) & (pixels[..., 2] < 80)  # the keypoints' colour
    tiles = [green[22:222, c * 200:(c + 1) * 200].sum() for c in range(3)]
    assert tiles[0] == 0 and tiles[1] > 0 and tiles[2] > 0  # 0, 1 and 2 keypoints drawn
    dark = pixels.sum(axis=-1) < 200  # the "N kp" caption, bottom left of each tile (the corner is white there)
    assert all(dark[222 - 15:222, c * 200:c * 200 + 40].any() for c in range(3))
    page = (tmp_path / "index.html").read_text()
    assert "<tr><td>error rows</td><td>1</td></tr>" in page
    assert "<td>file:/b/A/bad&lt;1&gt;.jpg</td><td>decode</td><td>truncated JPEG</td>" in page
    assert "<tr><td>extract</td><td>12.2</td></tr>" in page or "<tr><td>extract</td><td>12.3</td></tr>" in page
    assert "<tr><td>reduction.pca_components</td><td>32</td></tr>" in page
    assert "Evaluation skipped: no Test images." in page and '<img src="samples.png"' in page
