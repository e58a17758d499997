import pathlib

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


def test_committed_results_have_both_peers_on_the_same_bank():
    """The 20k results carry the Ray Data and Daft legs: one row per image each, ratios = ours / peer."""
    import json
    from pathlib import Path

    from benchmarks.report import PEER_NAMES

    record = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "latest.json").read_text())
    for name in PEER_NAMES:
        leg = record["legs"][name]
        assert leg["images"] == record["images"], name
        assert record[f"{name}_images_per_s"] == leg["images_per_s"] > 0, name
        assert record[f"ratio_vs_{name}"] == ratio(record["ours_images_per_s"], leg["images_per_s"]), name


def test_parquet_rows_sums_the_footers_of_every_file_below_the_folder(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks.peers import parquet_rows

    assert parquet_rows(tmp_path) == 0
    (tmp_path / "part=a").mkdir()
    pq.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "0.parquet")
    pq.write_table(pa.table({"x": list(range(7))}), tmp_path / "part=a" / "1.parquet")
    (tmp_path / "_SUCCESS").write_text("")
    assert parquet_rows(tmp_path) == 10


def test_peer_result_rates_the_counted_rows():
    from benchmarks.peers import peer_result

    assert peer_result(1000, 2.5, 4.123, "daft", "0.7.26") == {
        "images": 1000, "seconds": 2.5, "images_per_s": 400.0, "startup_s": 4.12, "engine": "daft",
        "version": "0.7.26"}
    assert peer_result(0, 0.0, 0.0, "ray-data", "2.60.0")["images_per_s"] == 0.0


def test_missing_peer_packages_stop_the_run_before_any_leg(capsys, monkeypatch, tmp_path):
    from benchmarks import run

    assert run.missing_peer_packages(lambda name: None) == ["ray", "daft"]
    assert run.missing_peer_packages(lambda name: None if name == "daft" else object()) == ["daft"]
    monkeypatch.setattr(run, "missing_peer_packages", lambda: ["daft"])
    assert run.main(["--work", str(tmp_path / "work")]) == 2
    assert capsys.readouterr().err == "bench: the peer legs need daft: pip install -e '.[bench]' (or pass --no-peers)\n"
    assert not (tmp_path / "work").exists()  # stopped before making anything


def test_a_leg_that_lost_rows_fails_the_run_with_both_counts():
    import pytest

    from benchmarks.run import check_rows

    check_rows(200, 200, "peer_daft")
    with pytest.raises(SystemExit, match="peer_ray_data wrote 199 rows for 200 images"):
        check_rows(199, 200, "peer_ray_data")


def test_the_bank_maker_plans_a_100k_bank_for_the_scaling_table():
    from fruit_pipeline.sample_bank import BankSpec, image_path

    from benchmarks.run import bank_plan

    assert bank_plan(100000) == ("bank-100000", 10000)
    assert bank_plan(20000) == ("bank-20000", 2000)
    assert bank_plan(5) == ("bank-10", 1)  # rounded up to whole classes
    spec = BankSpec(pathlib.Path("/b"), classes=10, per_class=10000).validate()  # `sample` for the 100k bank
    assert image_path(spec, 9, 7499).parts[-3] == "Training"  # a quarter of each class is Test
    assert image_path(spec, 9, 7500).parts[-3] == "Test"
    assert image_path(spec, 9, 9999).name == "9999_100.jpg"


def test_the_default_run_has_the_peers_and_a_100k_scaling_row_and_can_skip_the_peers():
    from benchmarks.run import PEERS, build_parser

    assert PEERS == {"peer_ray_data": "benchmarks.peer_ray", "peer_daft": "benchmarks.peer_daft"}
    default = build_parser().parse_args([])
    assert default.scaling.split(",")[-1] == "100000"
    assert default.no_peers is False
    assert build_parser().parse_args(["--no-peers"]).no_peers is True
