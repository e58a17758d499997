"""Pure pieces of the benchmark report: extra fields, memory growth, text tables, /proc parsing."""
from benchmarks import report
from benchmarks.proctree import TreeSample, role
from benchmarks.results import missing_keys, summary


def _legs(full: float | None = 900.0) -> dict:
    legs = {"raw": {"images_per_s": 1600.0}, "seed_style": {"images_per_s": 200.0, "limited_to": 2000},
            "ours_extraction": {"images_per_s": 2400.0, "durations_s": {"extract": 8.0}}}
    if full is not None:
        legs["ours_full"] = {"images_per_s": full}
    return legs


SCALING = [{"images": 5000, "images_per_s": 2000.0, "cpu_s": 20.0, "peak_rss_mb": 1000.0, "peak_anon_mb": 800.0,
            "peak_rss_mb_by_role": {"jvm": 700.0, "python_worker": 200.0, "driver_python": 100.0},
            "peak_anon_mb_by_role": {"jvm": 560.0, "python_worker": 160.0, "driver_python": 80.0}},
           {"images": 50000, "images_per_s": 2500.0, "cpu_s": 65.0, "peak_rss_mb": 1100.0, "peak_anon_mb": 960.0,
            "peak_rss_mb_by_role": {}}]


def test_extra_fields_give_limit_full_ratios_and_memory_growth():
    extra = report.extra_fields(_legs(), SCALING, {"nproc": 2}, cores=2)
    assert extra["raw_limit_images_per_s"] == 3200.0
    assert extra["ratio_full_vs_limit"] == round(900 / 3200, 3)
    assert extra["ratio_full_vs_seed"] == 4.5
    assert extra["seed_images_limited_to"] == 2000
    assert extra["rss_growth_largest_vs_smallest"] == 1.1
    assert extra["anon_growth_largest_vs_smallest"] == 1.2
    assert extra["marginal_cpu_ms_per_image"] == 1.0  # (65 - 20) s / 45000 images
    assert extra["s3a_images_per_s"] is None
    # 5000 images in 2.5 s, 50000 in 20 s: the 45000 extra images took 17.5 s
    assert extra["marginal_images_per_s"] == round(45000 / 17.5, 1)
    assert extra["ratio_marginal_vs_limit"] == round(45000 / 17.5 / 3200, 3)


def test_marginal_rate_uses_the_two_largest_banks_and_needs_two():
    middle = {"images": 20000, "images_per_s": 1000.0}  # 20 s: the 50k bank (20 s) adds nothing -> no rate
    assert report.marginal_rate([SCALING[1], middle]) is None
    assert report.marginal_rate([SCALING[0], {"images": 20000, "images_per_s": 1600.0}, SCALING[1]]) == round(
        30000 / (20 - 12.5), 1)
    assert report.marginal_rate(SCALING[:1]) is None


def test_without_full_run_or_scaling_the_fields_are_none():
    extra = report.extra_fields(_legs(full=None), [], {}, cores=2)
    assert extra["ours_full_images_per_s"] is None and extra["ratio_full_vs_limit"] is None
    assert extra["rss_growth_largest_vs_smallest"] is None
    assert extra["marginal_images_per_s"] is None and extra["ratio_marginal_vs_limit"] is None


def test_rss_growth_uses_smallest_and_largest_bank_whatever_the_order():
    assert report.rss_growth(list(reversed(SCALING))) == 1.1
    assert report.rss_growth(SCALING[:1]) is None
    assert report.marginal_cpu_ms(SCALING[:1]) is None


def test_text_names_ratios_targets_and_scaling_rows():
    record = summary(20000, 2, 1600.0, 200.0, 2400.0, 1234.5)
    record.update(report.extra_fields(_legs(), SCALING, {"nproc": 2, "cpu_model": "X"}, cores=2))
    assert missing_keys(record) == []
    out = report.text(record)
    assert "ratio ours / (raw x cores) = 0.75" in out
    assert "ratio ours / seed-style    = 12.0" in out
    assert "images/s (first 2000 images)" in out
    record["seed_images_limited_to"] = 20000
    assert "images/s (all 20000 images)" in report.text(record)
    lines = report.scaling_table(SCALING).splitlines()
    assert len(lines) == 3
    assert lines[1].split() == ["5000", "2000.0", "20.0", "1000.0", "800.0", "560.0", "160.0", "80.0"]
    assert lines[2].split() == ["50000", "2500.0", "65.0", "1100.0", "960.0", "0.0", "0.0", "0.0"]


def test_roles_of_a_spark_process_tree():
    assert role("/usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp x org.apache.spark.deploy.SparkSubmit") == "jvm"
    assert role("/venv/bin/python -m pyspark.daemon pyspark.worker") == "python_worker"
    assert role("/venv/bin/python -m fruit_pipeline run") == "driver_python"


def test_tree_sample_keeps_peaks_of_the_sum_and_per_role():
    acc = TreeSample(role_by_pid={1: "jvm", 2: "python_worker", 3: "python_worker"})
    acc.add({1: 500.0, 2: 100.0}, {1: 450.0, 2: 90.0})
    acc.add({1: 400.0, 2: 150.0, 3: 150.0}, {1: 300.0, 2: 140.0, 3: 140.0})
    assert acc.peak_total_mb == 700.0
    assert acc.peak_by_role_mb == {"jvm": 500.0, "python_worker": 300.0}
    assert acc.peak_anon_mb == 580.0
    assert acc.peak_anon_by_role_mb == {"jvm": 450.0, "python_worker": 280.0}
    acc.cpu_s_by_pid = {1: 2.0, 2: 1.5}
    assert acc.as_dict()["cpu_s"] == 3.5


def test_a_loaded_machine_is_flagged_in_the_text():
    record = summary(2000, 2, 500.0, 5.0, 40.0, 1500.0)
    quiet = {"nproc": 2, "loadavg_start": [0.4, 0.3, 0.2], "loadavg_end": [3.4, 1.0, 0.5]}  # the run's own load
    busy = {**quiet, "loadavg_start": [11.2, 9.0, 8.0]}
    assert report.loaded(quiet) is False and report.loaded(busy) is True and report.loaded({}) is False
    record.update(report.extra_fields(_legs(), [], busy, cores=2))
    assert record["machine_was_loaded"] is True
    assert report.text(record).startswith("WARNING: load average above the core count")
    record.update(report.extra_fields(_legs(), [], quiet, cores=2))
    assert "WARNING" not in report.text(record)


def test_markdown_table_has_every_leg_and_scaling_row():
    record = summary(20000, 2, 1600.0, 200.0, 2400.0, 1234.5)
    record.update(report.extra_fields(_legs(), SCALING, {"nproc": 2, "cpu_model": "X"}, cores=2))
    out = report.markdown(record).splitlines()
    assert "| raw x 2 cores (the limit) | 3200.0 |  |" in out
    assert "| ours, `run --no-reduction` (ratios use this) | 2400.0 | 0.75 x limit, 12.0 x seed-style |" in out
    assert "| ours, input from SeaweedFS `s3a://` | n/a |  |" in out
    assert "| 5000 | 2000.0 | 20.0 | 1000.0 | 800.0 (560.0 / 160.0 / 80.0) |" in out
    assert out[-1].startswith("Peak RSS, largest / smallest bank: 1.1 (anonymous only: 1.2); marginal CPU per image: 1.0 ms")


def test_rss_of_this_process_has_an_anonymous_part_within_it():
    from benchmarks.proctree import _rss_mb
    import os

    rss, anon = _rss_mb(os.getpid())
    assert 0 < anon <= rss
    assert _rss_mb(2**22 + 1) == (0.0, 0.0)  # no such process


def _with_peers(legs: dict) -> dict:
    legs["peer_ray_data"] = {"images_per_s": 600.0, "engine": "ray-data", "version": "2.60.0", "peak_rss_mb": 1800.0}
    legs["peer_daft"] = {"images_per_s": 1600.0, "engine": "daft", "version": "0.7.26", "peak_rss_mb": 400.0}
    return legs


def test_peer_ratios_are_ours_extraction_over_each_peer_present():
    assert report.peer_fields(_with_peers(_legs())) == {
        "peer_ray_data_images_per_s": 600.0, "ratio_vs_peer_ray_data": 4.0,
        "peer_daft_images_per_s": 1600.0, "ratio_vs_peer_daft": 1.5}
    only_daft = _with_peers(_legs())
    del only_daft["peer_ray_data"]
    assert set(report.peer_fields(only_daft)) == {"peer_daft_images_per_s", "ratio_vs_peer_daft"}
    assert report.peer_fields(_legs()) == {}  # --no-peers: no peer keys at all
    broken = _with_peers(_legs())
    broken["peer_daft"]["images_per_s"] = 0.0
    assert report.peer_fields(broken)["ratio_vs_peer_daft"] is None


def test_peers_appear_in_the_text_and_markdown_beside_the_other_legs():
    record = summary(20000, 2, 1600.0, 200.0, 2400.0, 1234.5)
    record.update(report.extra_fields(_with_peers(_legs()), [], {"nproc": 2, "cpu_model": "X"}, cores=2))
    assert record["ratio_vs_peer_ray_data"] == 4.0 and record["ratio_vs_peer_daft"] == 1.5
    text = report.text(record).splitlines()
    assert ("Ray Data (peer)       600.0 images/s (ray-data 2.60.0, peak RSS 1800.0 MB); ours / Ray Data = 4.0"
            in text)
    assert "Daft (peer)          1600.0 images/s (daft 0.7.26, peak RSS 400.0 MB); ours / Daft = 1.5" in text
    rows = report.markdown(record).splitlines()
    assert "| peer: Ray Data 2.60.0 | 600.0 | ours = 4.0 x Ray Data |" in rows
    assert "| peer: Daft 0.7.26 | 1600.0 | ours = 1.5 x Daft |" in rows
    plain = summary(20000, 2, 1600.0, 200.0, 2400.0, 1234.5)
    plain.update(report.extra_fields(_legs(), [], {"nproc": 2}, cores=2))
    assert "peer" not in report.text(plain) and "peer:" not in report.markdown(plain)


def test_peer_plot_has_a_bar_per_peer(tmp_path):
    record = summary(200, 2, 1600.0, 200.0, 2400.0, 1234.5)
    record.update(report.extra_fields(_with_peers(_legs()), [], {"nproc": 2}, cores=2))
    report.plot(record, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_roles_of_a_ray_process_tree():
    assert role("ray::_extract") == "ray_worker"
    assert role("ray::IDLE") == "ray_worker"
    assert role("/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet --raylet_socket_name=x") == "ray_runtime"
    assert role("/venv/bin/python -u /venv/lib/python3.11/site-packages/ray/_private/log_monitor.py") == "ray_runtime"
    assert role("/venv/bin/python -m benchmarks.peer_ray bank out --cores 2") == "driver_python"


def test_full_run_on_the_largest_bank_is_compared_with_extraction_on_that_bank():
    from benchmarks.report import full_largest_fields

    scaling = [{"images": 5000, "images_per_s": 400.0}, {"images": 100000, "images_per_s": 1500.0}]
    legs = {"ours_full_largest": {"images": 100000, "images_per_s": 600.0}}
    assert full_largest_fields(legs, scaling) == {"full_largest_images": 100000, "full_largest_images_per_s": 600.0,
                                                  "ratio_full_vs_extraction_largest": 0.4}
    assert full_largest_fields({}, scaling) == {}
    assert full_largest_fields({"ours_full_largest": {"images": 7, "images_per_s": 1.0}}, scaling) == {}
