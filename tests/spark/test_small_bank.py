"""Small banks: PCA keeps only components with variance, and evaluation says why it is skipped."""

import logging

import pytest

from fruit_pipeline.sample_bank import BankSpec, write_bank
from spark.helpers import run

pytestmark = pytest.mark.spark


def test_two_classes_of_twenty_images_with_the_default_sizes(spark, tmp_path, caplog):
    """The issue's case: 30 Training rows, 64 visual words + 256 colour bins, 32 components asked for. Centred
    data of 30 rows have at most 29 components with variance; the 3 others used to be scaled up to ~1e13 by the
    classifier and gave accuracy 0.2-0.3 while every ablation variant scored 1.0."""
    write_bank(BankSpec(tmp_path / "bank", classes=2, per_class=20, test_fraction=0.25, seed=11), workers=1)
    with caplog.at_level(logging.WARNING, logger="fruit_pipeline"):
        m = run(spark, tmp_path / "bank", tmp_path / "out", evaluation={"ablation": True})
    red, ev = m["reduction"], m["evaluation"]
    assert ev["train_rows"] == 30 and red["pca_components_requested"] == 32
    assert red["pca_components"] <= 29 and min(red["explained_variance"]) > 1e-9
    assert f"PCA keeps {red['pca_components']} component(s), not the 32 asked for: 30 Training image(s)" in caplog.text
    others = [r["accuracy"] for name, r in ev["ablation"].items() if name != "reduced"]
    assert ev["accuracy"] == ev["ablation"]["reduced"]["accuracy"] >= min(others) - 0.1, ev["ablation"]
    assert ev["accuracy"] >= 0.9


def test_one_label_is_not_evaluated(spark, tmp_path):
    write_bank(BankSpec(tmp_path / "bank", classes=1, per_class=8, test_fraction=0.25, seed=4), workers=1)
    m = run(spark, tmp_path / "bank", tmp_path / "out",
            reduction={"vocabulary_size": 8, "pca_components": 4, "descriptor_sample": 2000})
    assert m["evaluation"] == {"skipped": "only 1 label in Training: a classifier needs at least 2"}
    page = (tmp_path / "out" / "report" / "index.html").read_text()
    assert "Evaluation skipped: only 1 label in Training: a classifier needs at least 2." in page
    assert "accuracy" not in page.lower()
