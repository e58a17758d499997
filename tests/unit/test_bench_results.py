from benchmarks.results import REQUIRED_KEYS, missing_keys, rate, ratio, summary


def test_summary_ratios_against_limit_and_seed():
    rec = summary(images=20000, cores=2, raw_per_core=2000.0, seed=200.0, ours=3400.0, peak_rss_mb=900.04)
    assert rec["ratio_vs_limit"] == 0.85
    assert rec["ratio_vs_seed"] == 17.0
    assert rec["peak_rss_mb"] == 900.0
    assert missing_keys(rec) == []
    assert set(REQUIRED_KEYS) <= set(rec)


def test_unmeasured_legs_give_none_not_errors():
    assert ratio(10.0, 0.0) is None
    assert rate(100, 0.0) == 0.0
    assert summary(1, 2, 0.0, 0.0, 5.0, 1.0)["ratio_vs_seed"] is None
    assert missing_keys({"images": 1}) == [k for k in REQUIRED_KEYS if k != "images"]


def test_page_cache_warm_up_reads_every_image_of_the_bank(tmp_path):
    from benchmarks.run import warm_page_cache

    for name, size in (("Training/A/a.jpg", 3), ("Test/B/b.jpg", 5), ("Test/B/notes.txt", 7)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)
    assert warm_page_cache(tmp_path) == (2, 8)  # both images, not the text file


def test_committed_results_are_complete_and_self_consistent():
    """The results the README quotes: every required key, ratios that follow from the rates, a PNG beside each."""
    import json
    from pathlib import Path

    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    files = [results / "latest.json", results / "bank-50k" / "latest.json"]
    for path in files:
        record = json.loads(path.read_text())
        assert missing_keys(record) == [], path
        assert record["images"] >= 20000, path
        limit = record["raw_images_per_s_per_core"] * record["cores"]
        assert record["ratio_vs_limit"] == ratio(record["ours_images_per_s"], limit), path
        assert record["ratio_vs_seed"] == ratio(record["ours_images_per_s"], record["seed_images_per_s"]), path
        assert record["legs"]["seed_style"]["images"] == record["images"], path  # same bank, every leg
        assert path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
