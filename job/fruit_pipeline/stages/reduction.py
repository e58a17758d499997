"""Visual vocabulary (OpenCV k-means in one Spark task), bag-of-visual-words, scaling + PCA; fitted on Training only.

The models are fitted on the fit sample: at most `fit_images` Training images, chosen by a seeded hash of their bank
key before anything is read (`fit_sample`). Fitting is made independent of how the input happened to be partitioned:
descriptors are sampled by a hash of (bank key, index) and put in that order before the k-means fit, and the PCA
data is hash-partitioned and sorted, so the same Training images give the same models whatever else (e.g. Test
images) is in the bank.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, FloatType, IntegerType, StructField, StructType

from ..config import ExtractionConfig, ReductionConfig, from_mapping, to_dict
from ..errors import PipelineError
from ..imaging import colour
from ..imaging.labels import label_and_split
from ..imaging.visual_words import bovw_histograms
from ..imaging.visual_words import fit_vocabulary as fit_centres
from ..observability.progress import Step
from . import fs

log = logging.getLogger(__name__)
# Rows per partition of the cached data that the small models are fitted on (PCA, the classifier). Every Spark job
# over it pays per task, and L-BFGS runs one job per iteration: on 20k images the evaluation took 12.6 s with 8
# partitions and 4.8 s with 1, at the same accuracy (local[2], 2026-11-30). The count depends on the number of rows
# only, so the fit data's partitioning still never depends on the input's.
FIT_ROWS_PER_PARTITION = 50_000
TRAINING = "Training"


class NoTrainingImages(PipelineError):
    """The bank has no Training feature rows: nothing to fit the models on."""


@dataclass
class Models:
    """What `run` fits and `transform` reuses: the visual vocabulary (k x 256 float32 centres), the centring + PCA
    pipeline, and the extraction settings the descriptors were computed with."""

    vocabulary: np.ndarray
    reduction: PipelineModel
    extraction: ExtractionConfig

    @property
    def centres(self) -> np.ndarray:
        return self.vocabulary

    @property
    def explained_variance(self) -> list[float]:
        return [float(v) for v in self.reduction.stages[-1].explainedVariance.toArray()]

    def facts(self, pca_requested: int, uri: str) -> dict[str, Any]:
        """What the manifest says of the models: vocabulary size, PCA components and their variance, location."""
        variance = self.explained_variance
        return {"vocabulary_size": len(self.centres), "pca_components": len(variance),
                "pca_components_requested": pca_requested, "explained_variance": variance,
                "explained_variance_total": sum(variance), "models": uri}

    def save(self, uri: str, spark: SparkSession) -> None:
        """URI/vocabulary.json (the centres), URI/reduction (a Spark ML PipelineModel), URI/extraction.json."""
        fs.write_text(spark, fs.join(uri, VOCABULARY_FILE), json.dumps({"centres": self.vocabulary.tolist()}))
        self.reduction.write().overwrite().save(fs.join(uri, "reduction"))
        fs.write_text(spark, fs.join(uri, "extraction.json"), json.dumps(to_dict(self.extraction), indent=2))

    @classmethod
    def load(cls, uri: str, spark: SparkSession) -> "Models":
        try:
            extraction = from_mapping(ExtractionConfig, json.loads(fs.read_text(spark, fs.join(uri, "extraction.json"))))
            return cls(_load_vocabulary(uri, spark), PipelineModel.load(fs.join(uri, "reduction")), extraction)
        except Exception as exc:  # noqa: BLE001 - any failure here means "not a models directory"
            raise PipelineError(f"cannot load models from {uri}: {str(exc).strip().splitlines()[0][:200]}") from None


VOCABULARY_FILE = "vocabulary.json"


def _load_vocabulary(uri: str, spark: SparkSession) -> np.ndarray:
    """The centres of URI/vocabulary.json, or of the Spark ML KMeansModel (URI/vocabulary) that runs before
    2026-11-30 saved, so that their outputs still take `transform` and `run --mode append`."""
    path = fs.join(uri, VOCABULARY_FILE)
    if fs.exists(spark, path):
        return np.array(json.loads(fs.read_text(spark, path))["centres"], dtype=np.float32)
    from pyspark.ml.clustering import KMeansModel

    return np.array(KMeansModel.load(fs.join(uri, "vocabulary")).clusterCenters(), dtype=np.float32)


def bank_key(path: str = "path"):
    """`Split/Label/name.jpg`: identifies an image independently of where the bank is stored."""
    return F.regexp_extract(F.col(path), r"([^/]*/[^/]*/[^/]*)$", 1)


def bank_key_of(path: str) -> str:
    """`bank_key` of one path, in Python: its last three components."""
    return "/".join(path.rstrip("/").split("/")[-3:])


def fit_sample(paths: Iterable[str], limit: int, seed: int) -> list[str]:
    """The Training images the models are fitted on, sorted: at most `limit` of the Training `paths`, those with the
    smallest seeded BLAKE2b hash of their bank key (a bottom-k sample). The choice reads no image, depends neither on
    where the bank is stored nor on its other splits, and keeps most of its images when the bank grows."""
    training = [p for p in paths if label_and_split(p)[1] == TRAINING]

    def rank(path: str) -> tuple[bytes, str]:
        return hashlib.blake2b(f"{seed}\0{bank_key_of(path)}".encode(), digest_size=8).digest(), path

    return sorted(heapq.nsmallest(limit, training, key=rank))


def fit_partitions(rows: int) -> int:
    """Partitions for `rows` rows of fit data: one per FIT_ROWS_PER_PARTITION started, at least one."""
    return max(1, -(-rows // FIT_ROWS_PER_PARTITION))


def deterministic(df: DataFrame, rows: int, *extra_keys: str) -> DataFrame:
    """Same rows -> same partitions in the same order, whatever the input partitioning or bank location; `rows` is
    the number of rows of `df` (it sets the partition count, `fit_partitions`)."""
    keyed = df.withColumn("_key", bank_key())
    keys = ["_key", *extra_keys]
    return keyed.repartition(fit_partitions(rows), *keys).sortWithinPartitions(*keys).drop("_key")


def descriptor_sample(features: DataFrame, cfg: ReductionConfig, total: int) -> DataFrame:
    """A seeded, partitioning-independent sample of about `cfg.descriptor_sample` Training descriptors, in one
    partition: (`_key` bank key, `i` index in its image, `d` 32 bytes). Each descriptor is kept by a hash of
    (key, i, seed); images are first kept by a hash of (key, seed) at 4x that rate, so that only about 4x the sample
    is exploded, not every Training descriptor (1.5M rows at 20k images), while the sample still spans many images.
    `total` is the number of Training descriptors."""
    training = features.where(F.col("split") == TRAINING)
    if total == 0:
        raise PipelineError("no ORB descriptors in the Training split: cannot fit a visual vocabulary")
    fraction = min(1.0, cfg.descriptor_sample / total)
    per_image = min(1.0, IMAGE_OVERSAMPLING * fraction)
    keyed = training.select(bank_key().alias("_key"), "descriptors")
    images = keyed.where(_bucket(F.xxhash64("_key", F.lit(cfg.seed))) < per_image)
    exploded = images.select("_key", F.posexplode("descriptors").alias("i", "d"))
    kept = exploded.where(_bucket(F.xxhash64("_key", "i", F.lit(cfg.seed))) < fraction / per_image)
    return kept.repartition(1)


IMAGE_OVERSAMPLING = 4


def _bucket(hashed):
    """A 64-bit hash -> a uniform double in [0, 1)."""
    return F.abs(hashed % 1_000_000).cast("double") / 1_000_000.0


def _vocabulary_partition(cfg: ReductionConfig, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Runs in one Python worker over the whole sample: the centres as rows of `centre` (array<float>)."""
    received = [b for b in batches if b.num_rows]
    if not received:
        return
    table = pa.Table.from_batches(received)
    descriptors = np.frombuffer(b"".join(table.column("d").to_pylist()), np.uint8)
    centres = fit_centres(table.column("_key").to_pylist(), table.column("i").to_numpy(), descriptors,
                          cfg.vocabulary_size, cfg.kmeans_max_iter, cfg.seed)
    k, dims = centres.shape
    offsets = pa.array(np.arange(k + 1, dtype=np.int32) * dims)
    yield pa.RecordBatch.from_arrays([pa.array(np.arange(k, dtype=np.int32)),
                                      pa.ListArray.from_arrays(offsets, pa.array(centres.reshape(-1)))],
                                     ["word", "centre"])


def fit_vocabulary(features: DataFrame, cfg: ReductionConfig, total: int,
                   on_step: Callable[[str], None] = lambda _name: None) -> np.ndarray:
    """k x 256 float32 centres fitted by OpenCV's k-means on the descriptor sample, inside one Spark task: the
    sample never reaches the driver, only the k centres do."""
    sample = descriptor_sample(features, cfg, total)
    on_step("vocabulary")
    schema = StructType([StructField("word", IntegerType()), StructField("centre", ArrayType(FloatType()))])
    rows = sample.mapInArrow(partial(_vocabulary_partition, cfg), schema).collect()
    if not rows:
        raise PipelineError("no ORB descriptors in the Training sample: cannot fit a visual vocabulary")
    return np.array([r["centre"] for r in sorted(rows, key=lambda r: r["word"])], dtype=np.float32)


def _bovw_partition(centres: np.ndarray, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    k = len(centres)
    for batch in batches:
        lists = batch.column("descriptors")
        counts = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = b"".join(lists.flatten().to_pylist())
        desc = np.frombuffer(flat, np.uint8).reshape(-1, 32)
        hist = bovw_histograms(desc, counts, centres).reshape(-1)
        offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int32) * k)
        bovw = pa.ListArray.from_arrays(offsets, pa.array(hist, pa.float32()))
        yield pa.RecordBatch.from_arrays(batch.columns + [bovw], schema=schema)


def add_bovw(features: DataFrame, centres: np.ndarray) -> DataFrame:
    """Append `bovw` (normalised visual-word histogram, array<float> of length k), vectorised per batch."""
    from pyspark.sql.pandas.types import to_arrow_schema

    out_schema = StructType(features.schema.fields + [StructField("bovw", ArrayType(FloatType()))])
    arrow_schema = to_arrow_schema(out_schema)
    return features.mapInArrow(partial(_bovw_partition, centres, arrow_schema), out_schema)


def _hellinger(column: str):
    """sqrt of an L1-normalised histogram: Euclidean geometry then matches the Hellinger distance."""
    return array_to_vector(F.transform(column, lambda x: F.sqrt(x)))


def with_vectors(df: DataFrame, sizes: tuple[int, int] | None = None) -> DataFrame:
    """ML vector views of the histogram columns (temporary columns, dropped before writing). `sizes`: (visual
    words, colour bins), recorded as the columns' ML attribute metadata so that `VectorAssembler` need not run a
    Spark job to read them from a first row."""
    out = df.withColumn("bovw_vec", _hellinger("bovw")).withColumn("colour_vec", _hellinger("colour_hist"))
    if sizes is None:
        return out
    return (out.withMetadata("bovw_vec", {"ml_attr": {"num_attrs": sizes[0]}})
            .withMetadata("colour_vec", {"ml_attr": {"num_attrs": sizes[1]}}))


# A component whose share of the variance is below this carries none (numerical noise, ~1e-16): the classifier's
# standard scaling would blow it up to dominate every Test vector.
NO_VARIANCE = 1e-9


def pca_size(requested: int, dims: int, train_rows: int) -> int:
    """Components to fit: never more than the input dimensions nor Training rows - 1 (the rank of centred data)."""
    return max(1, min(requested, dims, train_rows - 1))


def _reduction_pipeline(k: int) -> Pipeline:
    return Pipeline(stages=[
        VectorAssembler(inputCols=["bovw_vec", "colour_vec"], outputCol="raw_vec"),
        # Centre only: dividing rare histogram bins by their tiny std would let them dominate PCA.
        StandardScaler(inputCol="raw_vec", outputCol="scaled_vec", withMean=True, withStd=False),
        PCA(k=k, inputCol="scaled_vec", outputCol="pca_vec")])


def fit_reduction(training: DataFrame, rows: int, centres: np.ndarray, cfg: ReductionConfig,
                  extraction: ExtractionConfig) -> PipelineModel:
    """Centring + PCA on the visual words + colour of the `rows` Training rows, keeping only components that carry
    variance (a warning says when fewer than `cfg.pca_components` remain because the data are too small). Only the
    two histogram vectors are cached for the fit, not the images' descriptors and keypoints."""
    with_bovw = add_bovw(training.select("path", "descriptors", "colour_hist"), centres)
    vectors = with_vectors(with_bovw, (len(centres), colour.n_bins(extraction.colour))).select(
        "path", "bovw_vec", "colour_vec")
    train = deterministic(vectors, rows).cache()
    try:
        rows = train.count()
        k = pca_size(cfg.pca_components, cfg.vocabulary_size + colour.n_bins(extraction.colour), rows)
        model = _reduction_pipeline(k).fit(train)
        carrying = sum(v > NO_VARIANCE for v in model.stages[-1].explainedVariance.toArray())
        if 0 < carrying < k:
            k = carrying
            model = _reduction_pipeline(k).fit(train)
    finally:
        train.unpersist()
    if k < cfg.pca_components:
        log.warning("PCA keeps %d component(s), not the %d asked for: %d Training image(s) give at most %d "
                    "with any variance; use more images or fewer components", k, cfg.pca_components, rows,
                    max(rows - 1, 0))
    return model


def fit_steps(cfg: ReductionConfig) -> list[Step]:
    """The steps of `fit` and the Spark jobs each runs at most."""
    return [Step("sample", 2), Step("vocabulary", 1), Step("visual words + PCA", 8)]


def fit(features: DataFrame, cfg: ReductionConfig, extraction: ExtractionConfig,
        on_step: Callable[[str], None] = lambda _name: None) -> Models:
    """Fit the vocabulary on the Training descriptors of `features` (the fit sample's rows), then PCA on their visual
    words + colour. `on_step` is called as each of `fit_steps` starts. Nothing is left persisted."""
    on_step("sample")
    training = features.where(F.col("split") == TRAINING)
    # n_keypoints = len(descriptors): the descriptors are counted without exploding them
    rows, descriptors = training.agg(F.count(F.lit(1)), F.sum("n_keypoints")).first()
    if rows == 0:
        raise NoTrainingImages("no Training images: the vocabulary and PCA are fitted on the Training split only")
    centres = fit_vocabulary(features, cfg, descriptors or 0, on_step)
    on_step("visual words + PCA")
    return Models(centres, fit_reduction(training, rows, centres, cfg, extraction), extraction)


def sample_rows(rows: DataFrame, paths: list[str]) -> DataFrame:
    """The rows of `rows` whose `path` is one of `paths` (the fit sample: a few thousand), by a broadcast
    semi-join."""
    chosen = rows.sparkSession.createDataFrame([(p,) for p in paths], "path string")
    return rows.join(F.broadcast(chosen), "path", "left_semi")


def transform(features: DataFrame, models: Models) -> DataFrame:
    """`features` with `bovw` and `features` (the reduced vector, array<double>) appended; lazy: the visual words
    are computed by whatever writes the result, in the same pass."""
    return project(add_bovw(features, models.centres), models)


def project(with_bovw: DataFrame, models: Models) -> DataFrame:
    """Rows with `bovw` + `features` (the reduced vector, array<double>)."""
    sizes = (len(models.centres), colour.n_bins(models.extraction.colour))
    reduced = models.reduction.transform(with_vectors(with_bovw, sizes))
    return reduced.withColumn("features", vector_to_array("pca_vec")).drop(
        "bovw_vec", "colour_vec", "raw_vec", "scaled_vec", "pca_vec")

