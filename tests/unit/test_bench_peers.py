"""Smoke runs of the peer legs (Ray Data, Daft) on 50 images, through the benchmark's own process-tree sampler."""
from __future__ import annotations

import importlib.metadata
import importlib.util

import pytest

from conftest import require
from fruit_pipeline.sample_bank import BankSpec, write_bank

from benchmarks.run import leg_peer

IMAGES = 50


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("peers") / "bank"
    assert write_bank(BankSpec(root, classes=5, per_class=IMAGES // 5), workers=1) == IMAGES
    return root


@pytest.mark.parametrize("leg, distribution, engine", [("peer_daft", "daft", "daft"),
                                                       ("peer_ray_data", "ray", "ray-data")])
def test_peer_leg_writes_one_row_per_image_and_is_measured(leg, distribution, engine, bank, tmp_path):
    require(importlib.util.find_spec(distribution) is not None, f"{distribution} (benchmark extra)",
            "pip install -e '.[bench]'")
    out = leg_peer(leg, bank, tmp_path, cores=1, images=IMAGES)
    assert out["images"] == IMAGES  # counted from the written Parquet (a mismatch exits the run)
    assert (out["engine"], out["version"]) == (engine, importlib.metadata.version(distribution))
    assert out["images_per_s"] == pytest.approx(IMAGES / out["seconds"], rel=0.01)
    assert out["cpu_s"] > 0 and out["peak_rss_mb"] > 0
    assert not (tmp_path / f"out-{leg}").exists()  # the Parquet is removed once counted
    if leg == "peer_ray_data":
        assert {"ray_worker", "ray_runtime"} <= set(out["peak_rss_mb_by_role"])  # the whole Ray tree is sampled
