"""Visual words + PCA + evaluation on a real local SparkSession."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from pyspark.ml import PipelineModel

from fruit_pipeline import pipeline
from fruit_pipeline.config import build_config
from fruit_pipeline.sample_bank import BankSpec, write_bank
from spark.helpers import features, manifest, run

pytestmark = pytest.mark.spark
SMALL = {"reduction": {"vocabulary_size": 16, "pca_components": 8, "descriptor_sample": 5000},
         "evaluation": {"max_iter": 50, "ablation": True}}


@pytest.fixture(scope="module")
def reduced_run(spark, small_bank, tmp_path_factory):
    out = tmp_path_factory.mktemp("reduced")
    return out, run(spark, small_bank, out, **SMALL)


def test_features_gain_bovw_and_fixed_length_reduced_vector(reduced_run):
    rows = features(reduced_run[0])
    assert all(len(r["features"]) == 8 and len(r["bovw"]) == 16 for r in rows)
    for r in rows:
        total = sum(r["bovw"])
        assert abs(total - (1.0 if r["n_keypoints"] else 0.0)) < 1e-5


def test_manifest_records_reduction_and_evaluation(reduced_run):
    m = manifest(reduced_run[0])
    assert {"reduce", "evaluate", "report"} <= set(m["durations_s"])
    red = m["reduction"]
    assert red["vocabulary_size"] == 16 and red["pca_components"] == 8
    assert len(red["explained_variance"]) == 8 and 0 < red["explained_variance_total"] <= 1.0
    assert list(red["explained_variance"]) == sorted(red["explained_variance"], reverse=True)
    ev = m["evaluation"]
    assert set(ev["ablation"]) == {"bovw", "colour", "bovw+colour", "reduced"}
    assert ev["test_rows"] == 30 and len(ev["confusion"]) == 5 and sum(map(sum, ev["confusion"])) == 30


def test_accuracy_far_above_chance(reduced_run):
    """5 balanced classes: chance is 0.2. The synthetic classes differ in hue, shape and texture, so a linear
    model on 8 PCA components of colour + 16 visual words should get most of the 30 Test images right; 0.8
    leaves room for the small Training set (18 images per class) while failing any broken feature."""
    ev = manifest(reduced_run[0])["evaluation"]
    assert ev["accuracy"] >= 0.8
    assert ev["ablation"]["colour"]["accuracy"] >= 0.6 and ev["ablation"]["bovw"]["accuracy"] >= 0.4


def test_report_pngs_open(reduced_run):
    report = reduced_run[0] / "report"
    names = {"class_counts.png", "keypoints.png", "explained_variance.png", "pca_scatter.png", "confusion_matrix.png",
             "samples.png"}
    assert names <= {p.name for p in report.iterdir()}
    for name in names:
        with Image.open(report / name) as img:
            assert img.format == "PNG" and img.size[0] > 300
    page = (report / "index.html").read_text()
    assert "Ablation" in page and all(n in page for n in names)
    assert "<tr><td>feature rows</td><td>120</td></tr>" in page and "<h2>Stage timings</h2>" in page
    assert "<tr><td>reduction.vocabulary_size</td><td>16</td></tr>" in page


def test_transform_reproduces_run_features(spark, small_bank, reduced_run, tmp_path):
    out, _ = reduced_run
    cfg = build_config(None, {"input": str(small_bank), "output": str(tmp_path), "spark": {"master": "local[2]"}})
    m = pipeline.run(cfg, spark, models_uri=str(out / "models"))
    assert "evaluate" not in m["durations_s"] and m["reduction"]["models"] == str(out / "models")
    a, b = features(out), features(tmp_path)
    assert [r["path"] for r in a] == [r["path"] for r in b]
    for ra, rb in zip(a, b):
        assert ra["features"] == rb["features"] and ra["bovw"] == rb["bovw"]


def _models(path):
    centres = np.array(json.loads((path / "vocabulary.json").read_text())["centres"], dtype=np.float32)
    stages = PipelineModel.load(str(path / "reduction")).stages
    return centres, stages[1].mean.toArray(), stages[2].pc.toArray()


def test_test_rows_do_not_change_the_fitted_models(spark, small_bank, reduced_run, tmp_path):
    """Same Training images, different Test images (more, and of other classes) -> the same models.
    Vocabulary and mean are bit-identical; the PCA basis may differ by float summation order (Spark's
    tree aggregation merges partials as tasks finish), so it is compared to 1e-9."""
    bank = tmp_path / "bank"
    shutil.copytree(small_bank, bank)
    shutil.rmtree(bank / "Test")
    write_bank(BankSpec(tmp_path / "other", classes=8, per_class=12, test_fraction=0.5, seed=99), workers=1)
    shutil.copytree(tmp_path / "other" / "Test", bank / "Test")
    run(spark, bank, tmp_path / "out", **{**SMALL, "evaluation": {"enabled": False}})
    (c1, m1, p1), (c2, m2, p2) = _models(reduced_run[0] / "models"), _models(tmp_path / "out" / "models")
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_allclose(p1, p2, rtol=0, atol=1e-9)


def test_transform_with_missing_models_is_a_clear_error(spark, small_bank, tmp_path):
    from fruit_pipeline.errors import PipelineError
    cfg = build_config(None, {"input": str(small_bank), "output": str(tmp_path / "o")})
    with pytest.raises(PipelineError, match="cannot load models from"):
        pipeline.run(cfg, spark, models_uri=str(tmp_path / "nope"))


def test_without_ablation_one_classifier_gives_the_same_main_metrics(spark, reduced_run):
    """The default (no ablation) trains only the delivered vector's classifier; its metrics equal the ablation run's."""
    from fruit_pipeline.config import EvaluationConfig
    from fruit_pipeline.stages.evaluation import evaluate

    reduced = spark.read.parquet(str(reduced_run[0] / "features"))
    ev = evaluate(reduced, EvaluationConfig(max_iter=50))
    main = manifest(reduced_run[0])["evaluation"]
    assert "ablation" not in ev
    assert (ev["accuracy"], ev["confusion"], ev["labels"]) == (main["accuracy"], main["confusion"], main["labels"])


def test_models_saved_before_the_opencv_vocabulary_still_load(spark, reduced_run, tmp_path):
    """An output written by a run before 2026-11-30 holds its vocabulary as a Spark ML KMeansModel (OUT/models/
    vocabulary/), not vocabulary.json: `Models.load` (transform, append) still reads its centres."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.linalg import Vectors

    from fruit_pipeline.stages.reduction import Models

    models = tmp_path / "models"
    shutil.copytree(reduced_run[0] / "models", models)
    centres = np.array(json.loads((models / "vocabulary.json").read_text())["centres"], dtype=np.float32)
    (models / "vocabulary.json").unlink()
    # k-means with k = the number of distinct points returns those points: a legacy model with the same centres
    points = spark.createDataFrame([(Vectors.dense(c.astype(float)),) for c in centres], ["features"])
    KMeans(k=len(centres), seed=1, maxIter=5).fit(points).write().save(str(models / "vocabulary"))
    loaded = Models.load(str(models), spark).centres
    assert loaded.dtype == np.float32 and loaded.shape == centres.shape
    assert sorted(map(tuple, loaded)) == sorted(map(tuple, centres))
