"""Visual vocabulary (Spark ML KMeans), bag-of-visual-words, scaling + PCA; fitted on Training only.

Fitting is made independent of how the input happened to be partitioned: descriptors are sampled by
a hash of (path, index) and the fit data is hash-partitioned and sorted before every fit, so the same
Training images give the same models whatever else (e.g. Test images) is in the bank.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import KMeans, KMeansModel
from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, FloatType, StructField, StructType

from ..config import ExtractionConfig, ReductionConfig, from_mapping, to_dict
from ..errors import PipelineError
from ..imaging import colour
from ..imaging.visual_words import bovw_histograms, unpack_bits
from ..observability.progress import Step
from . import fs

log = logging.getLogger(__name__)
FIT_PARTITIONS = 8
TRAINING = "Training"


@dataclass
class Models:
    """What `run` fits and `transform` reuses."""

    vocabulary: KMeansModel
    reduction: PipelineModel
    extraction: ExtractionConfig

    @property
    def centres(self) -> np.ndarray:
        return np.array([c for c in self.vocabulary.clusterCenters()], dtype=np.float32)

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
        self.vocabulary.write().overwrite().save(fs.join(uri, "vocabulary"))
        self.reduction.write().overwrite().save(fs.join(uri, "reduction"))
        fs.write_text(spark, fs.join(uri, "extraction.json"), json.dumps(to_dict(self.extraction), indent=2))

    @classmethod
    def load(cls, uri: str, spark: SparkSession) -> "Models":
        try:
            extraction = from_mapping(ExtractionConfig, json.loads(fs.read_text(spark, fs.join(uri, "extraction.json"))))
            return cls(KMeansModel.load(fs.join(uri, "vocabulary")), PipelineModel.load(fs.join(uri, "reduction")),
                       extraction)
        except Exception as exc:  # noqa: BLE001 - any failure here means "not a models directory"
            raise PipelineError(f"cannot load models from {uri}: {str(exc).strip().splitlines()[0][:200]}") from None


def bank_key(path: str = "path"):
    """`Split/Label/name.jpg`: identifies an image independently of where the bank is stored."""
    return F.regexp_extract(F.col(path), r"([^/]*/[^/]*/[^/]*)$", 1)


def deterministic(df: DataFrame, *extra_keys: str) -> DataFrame:
    """Same rows -> same partitions in the same order, whatever the input partitioning or bank location."""
    keyed = df.withColumn("_key", bank_key())
    keys = ["_key", *extra_keys]
    return keyed.repartition(FIT_PARTITIONS, *keys).sortWithinPartitions(*keys).drop("_key")


def _bits_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        desc = np.frombuffer(b"".join(batch.column("d").to_pylist()), np.uint8)
        bits = unpack_bits(desc).reshape(-1)
        offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int32) * 256)
        yield pa.RecordBatch.from_arrays([pa.ListArray.from_arrays(offsets, pa.array(bits, pa.float32()))], ["bits"])


def descriptor_sample(features: DataFrame, cfg: ReductionConfig) -> DataFrame:
    """A seeded, partitioning-independent sample of Training descriptors (`d`, 32 bytes each), persisted: the
    vocabulary fit reads it several times (vector size, k-means|| initialisation, iterations), and each read would
    otherwise explode and shuffle every Training descriptor again. Unpersist it after the fit."""
    training = features.where(F.col("split") == TRAINING)
    # n_keypoints = len(descriptors): the count needs no explode of every descriptor (1.5M rows at 20k images).
    total = training.agg(F.sum("n_keypoints")).first()[0] or 0
    if total == 0:
        raise PipelineError("no ORB descriptors in the Training split: cannot fit a visual vocabulary")
    # The bank key is computed once per image, not once per exploded descriptor (a regexp over 1.5M rows).
    train = training.select(bank_key().alias("_key"), F.posexplode("descriptors").alias("i", "d"))
    fraction = min(1.0, cfg.descriptor_sample / total)
    bucket = F.abs(F.xxhash64("_key", "i", F.lit(cfg.seed)) % 1_000_000).cast("double") / 1_000_000.0
    keys = ["_key", "i"]
    sample = train.where(bucket < fraction).repartition(FIT_PARTITIONS, *keys).sortWithinPartitions(*keys)
    return sample.select("d").persist(StorageLevel.MEMORY_AND_DISK)


def as_bit_vectors(descriptors: DataFrame) -> DataFrame:
    """`d` (32-byte ORB descriptors) -> `bits`, 256-d 0/1 ML vectors."""
    schema = StructType([StructField("bits", ArrayType(FloatType()))])
    return descriptors.mapInArrow(_bits_partition, schema).select(array_to_vector("bits").alias("bits"))


def fit_vocabulary(features: DataFrame, cfg: ReductionConfig,
                   on_step: Callable[[str], None] = lambda _name: None) -> KMeansModel:
    sample = descriptor_sample(features, cfg)
    on_step("vocabulary")
    try:
        kmeans = KMeans(k=cfg.vocabulary_size, seed=cfg.seed, maxIter=cfg.kmeans_max_iter, featuresCol="bits")
        return kmeans.fit(as_bit_vectors(sample))
    finally:
        sample.unpersist()


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


def with_vectors(df: DataFrame) -> DataFrame:
    """ML vector views of the histogram columns (temporary columns, dropped before writing)."""
    return df.withColumn("bovw_vec", _hellinger("bovw")).withColumn("colour_vec", _hellinger("colour_hist"))


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


def fit_reduction(training: DataFrame, centres: np.ndarray, cfg: ReductionConfig,
                  extraction: ExtractionConfig) -> PipelineModel:
    """Centring + PCA on the Training rows' visual words + colour, keeping only components that carry variance (a
    warning says when fewer than `cfg.pca_components` remain because the data are too small). Only the two
    histogram vectors are cached for the fit, not the images' descriptors and keypoints."""
    with_bovw = add_bovw(training.select("path", "descriptors", "colour_hist"), centres)
    train = deterministic(with_vectors(with_bovw).select("path", "bovw_vec", "colour_vec")).cache()
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
    """The steps of `fit` and the Spark jobs each runs at most (k-means: its initialisation + one per iteration)."""
    return [Step("sample", 3), Step("vocabulary", cfg.kmeans_max_iter + 8), Step("visual words + PCA", 8)]


def fit(features: DataFrame, cfg: ReductionConfig, extraction: ExtractionConfig,
        on_step: Callable[[str], None] = lambda _name: None) -> Models:
    """Fit the vocabulary on Training descriptors, then PCA on Training visual words + colour. `on_step` is called
    as each of `fit_steps` starts. Nothing is left persisted."""
    on_step("sample")
    training = features.where(F.col("split") == TRAINING)
    if training.limit(1).count() == 0:
        raise PipelineError("no Training images: the vocabulary and PCA are fitted on the Training split only")
    vocabulary = fit_vocabulary(features, cfg, on_step)
    centres = np.array(vocabulary.clusterCenters(), dtype=np.float32)
    on_step("visual words + PCA")
    return Models(vocabulary, fit_reduction(training, centres, cfg, extraction), extraction)


def transform(features: DataFrame, models: Models) -> DataFrame:
    """`features` with `bovw` and `features` (the reduced vector, array<double>) appended; lazy: the visual words
    are computed by whatever writes the result, in the same pass."""
    return project(add_bovw(features, models.centres), models)


def project(with_bovw: DataFrame, models: Models) -> DataFrame:
    """Rows with `bovw` + `features` (the reduced vector, array<double>)."""
    reduced = models.reduction.transform(with_vectors(with_bovw))
    return reduced.withColumn("features", vector_to_array("pca_vec")).drop(
        "bovw_vec", "colour_vec", "raw_vec", "scaled_vec", "pca_vec")

