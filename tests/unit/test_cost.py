"""`fruit-pipeline cost`: hand-computed values from the shipped price table, and one-line refusals."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from fruit_pipeline.errors import UsageError
from fruit_pipeline.observability import cost

MANIFEST = {"counts": {"input_files": 20_000, "features_rows": 19_990, "error_rows": 10},
            "wall_time_s": 1800.0, "output": "s3a://bucket/out",
            "spark_status": {"executors": 4, "executor_cpu_time_s": 3000.0}}


@pytest.fixture(scope="module")
def table() -> cost.PriceTable:
    return cost.load_prices()


def test_price_table_names_region_date_and_source_of_every_figure(table):
    assert table.as_of == "2026-11-30"
    m5 = table.instance("us-east-1", "m5.xlarge")
    assert (m5.vcpu, m5.memory_gib, m5.on_demand.usd, m5.spot.usd) == (4, 16, 0.192, 0.07)
    prices = [p for i in table.instances.values() for p in (i.on_demand, i.spot) if p] + \
        [p for pair in (*table.emr_on_eks.values(), *table.s3.values()) for p in pair]
    assert all(p.source.startswith("https://") and p.date == "2026-11-30" and p.usd > 0 for p in prices)


def test_on_demand_and_spot_on_three_nodes_are_the_hand_computed_values(table):
    figures = cost.figures_from_manifest(MANIFEST, output_objects=200)
    est = cost.estimate(figures, table, "us-east-1", "m5.xlarge", nodes=3)
    by_name = {line.name: line.usd for line in est.lines}
    # 3 nodes x 0.5 h = 1.5 instance-hours; 20,000 GET; 200 PUT.
    assert by_name == pytest.approx({"EC2 on demand": 1.5 * 0.192, "EC2 spot": 1.5 * 0.07,
                                     "S3 GET (bank)": 20 * 0.0004, "S3 PUT (output)": 0.2 * 0.005})
    assert est.total("on_demand") == pytest.approx(0.297)
    assert est.total("spot") == pytest.approx(0.114)
    assert est.per_million("on_demand") == pytest.approx(14.85)
    assert est.per_million("spot") == pytest.approx(5.7)


def test_emr_on_eks_adds_its_vcpu_and_memory_uplift(table):
    figures = cost.figures_from_manifest(MANIFEST, output_objects=200)
    est = cost.estimate(figures, table, "us-east-1", "m5.xlarge", nodes=3, emr_on_eks=True)
    uplift = 1.5 * 4 * 0.01012 + 1.5 * 16 * 0.00111125
    assert est.total("on_demand") == pytest.approx(0.297 + uplift)
    assert est.total("spot") == pytest.approx(0.114 + uplift)
    assert any("request whole nodes" in a for a in est.assumptions)


def test_unknown_output_objects_leave_put_out_and_say_so(table):
    est = cost.estimate(cost.figures_from_manifest(MANIFEST), table, "us-east-1", "m5.xlarge", nodes=1)
    assert [line.name for line in est.lines] == ["EC2 on demand", "EC2 spot", "S3 GET (bank)"]
    assert any("PUT cost left out" in a for a in est.assumptions)


def test_price_overrides_replace_the_table_figures(table):
    figures = cost.figures_from_manifest(MANIFEST, output_objects=0)
    est = cost.estimate(figures, table, "eu-west-1", "m5.xlarge", nodes=2, spot_price=0.1, on_demand_price=0.3)
    assert [line.usd for line in est.lines[:2]] == pytest.approx([1.0 * 0.3, 1.0 * 0.1])


@pytest.mark.parametrize("kwargs, message", [
    ({"region": "us-east-1", "instance_type": "x9.huge"}, "no price for instance type 'x9.huge' in us-east-1"),
    ({"region": "eu-west-1", "instance_type": "m5.xlarge"}, "no spot price for m5.xlarge in eu-west-1"),
    ({"region": "eu-west-1", "instance_type": "m5.xlarge", "spot_price": 0.08, "emr_on_eks": True},
     "no EMR on EKS price for eu-west-1"),
    ({"region": "us-east-1", "instance_type": "m5.xlarge", "nodes": 0}, "--nodes must be >= 1"),
])
def test_unknown_types_and_missing_prices_are_refused(table, kwargs, message):
    args = {"nodes": 1, **kwargs}
    with pytest.raises(UsageError, match=message.replace(".", r"\.")):
        cost.estimate(cost.figures_from_manifest(MANIFEST), table, **args)


def test_projection_fits_cpu_seconds_and_spreads_them_over_the_nodes(table):
    rows = [{"images": 1000, "cpu_s": 12.0}, {"images": 2000, "cpu_s": 14.0}, {"images": 4000, "cpu_s": 18.0}]
    assert cost.fit_line((r["images"], r["cpu_s"]) for r in rows) == pytest.approx((10.0, 0.002))
    m5 = table.instance("us-east-1", "m5.xlarge")
    [p] = cost.project(rows, [1_000_000], 2, m5, m5.on_demand, m5.spot, table.s3["us-east-1"][0])
    assert p.cpu_s == pytest.approx(2010.0)
    assert p.wall_s == pytest.approx(2010.0 / 8)
    assert p.s3_get_usd == pytest.approx(1000 * 0.0004)
    assert p.on_demand_usd == pytest.approx(2 * 2010.0 / 8 / 3600 * 0.192 + 0.4)
    assert p.spot_usd == pytest.approx(2 * 2010.0 / 8 / 3600 * 0.07 + 0.4)


def test_cli_prints_totals_and_marks_measured_and_assumed(tmp_path):
    out = tmp_path / "out"
    (out / "features").mkdir(parents=True)
    for i in range(3):
        (out / "features" / f"part-{i}.parquet").write_bytes(b"x")
    (tmp_path / "manifest.json").write_text(json.dumps({**MANIFEST, "output": str(out)}))
    result = run_cli("cost", "--manifest", str(tmp_path / "manifest.json"), "--nodes", "3")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "20000 images in 1800.0 s (measured)" in text
    assert "total, EC2 on demand: 0.2960 USD per run, 14.80 USD per million images" in text  # 3 PUT objects
    assert "total, EC2 spot: 0.1130 USD per run, 5.6508 USD per million images" in text
    assert "assumptions: the run takes its measured wall time" in text


@pytest.mark.parametrize("args, message", [
    (["--instance-type", "x9.huge"], "fruit-pipeline: error: no price for instance type 'x9.huge' in us-east-1"),
    (["--region", "eu-west-1"], "fruit-pipeline: error: no spot price for m5.xlarge in eu-west-1"),
])
def test_cli_refusals_are_one_line_with_exit_2(tmp_path, args, message):
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    result = run_cli("cost", "--manifest", str(tmp_path), *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(message)


def test_cli_refuses_a_missing_manifest(tmp_path):
    result = run_cli("cost", "--manifest", str(tmp_path / "nope.json"))
    assert (result.returncode, result.stderr.strip()) == (2, f"fruit-pipeline: error: manifest not found: "
                                                              f"{tmp_path / 'nope.json'}")



def test_report_section_prices_the_run_on_one_m5_xlarge_per_executor():
    text = cost.report_text(images=20_000, wall_time_s=1800.0, executors=3)
    assert "cluster: 3 x m5.xlarge (4 vCPU, 16 GiB) in us-east-1" in text
    assert "total, EC2 on demand: 0.2960 USD per run, 14.80 USD per million images" in text  # 1.5 h x 0.192 + GET
    assert "cluster: 1 x m5.xlarge" in cost.report_text(images=10, wall_time_s=60.0, executors=0)  # local mode


def test_cli_projection_uses_the_given_prices(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "bench.json").write_text(json.dumps({"scaling": [{"images": 1000, "cpu_s": 12.0},
                                                                  {"images": 2000, "cpu_s": 14.0}]}))
    result = run_cli("cost", "--manifest", str(tmp_path), "--nodes", "2", "--spot-price", "0.05",
                     "--bench", str(tmp_path / "bench.json"))
    assert result.returncode == 0, result.stderr
    # 1M images: 10 + 0.002 x 1e6 = 2,010 CPU s over 2 x 4 vCPU = 251.25 s; 2 nodes -> 0.139583 h; + 1,000 x 0.0004 GET
    assert ("1,000,000 images: 2,010 CPU s, 4 min 12 s on 2 node(s), 0.4268 USD on demand, 0.4070 USD spot "
            "(of which S3 GET 0.4000)") in result.stdout
