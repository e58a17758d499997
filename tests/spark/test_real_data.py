"""The real-data evaluation on the shared Fruits-360 sample (3,2xx photos, 5 classes)."""

import pytest

from spark.helpers import manifest, run

pytestmark = pytest.mark.spark


def test_real_fruits360_accuracy_targets(spark, fruits360, tmp_path):
    """Targets from the product brief: >= 95% Test accuracy with all features (the delivered reduced vector),
    >= 85% from the ORB bag-of-words alone. Measured here: 100% and ~95% (Nov 2026)."""
    m = run(spark, fruits360, tmp_path, evaluation={"ablation": True})
    assert m["counts"]["error_rows"] == 0 and m["counts"]["features_rows"] == m["counts"]["input_files"] > 3000
    ev = m["evaluation"]
    assert ev["accuracy"] >= 0.95, ev["ablation"]
    assert ev["ablation"]["bovw"]["accuracy"] >= 0.85, ev["ablation"]
    assert set(ev["per_class_recall"]) == {"Apple Golden 1", "Banana 1", "Kiwi 1", "Orange 1", "Strawberry 1"}
    assert manifest(tmp_path)["evaluation"]["labels"] == sorted(ev["per_class_recall"])
