"""The one typed configuration object that flows through the pipeline, and how it is built.

Values come from, lowest precedence first: the dataclass defaults, a TOML file (`--config`), the
command line. Unknown keys and wrong types are rejected with a `UsageError`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


@dataclass(frozen=True)
class OrbConfig:
    """OpenCV ORB parameters. Edge threshold and patch size of 10 suit 100x100 images."""

    n_features: int = 500
    scale_factor: float = 1.2
    n_levels: int = 8
    edge_threshold: int = 10
    patch_size: int = 10
    fast_threshold: int = 20


@dataclass(frozen=True)
class ColourConfig:
    """HSV histogram bins; near-white background pixels are masked out."""

    h_bins: int = 16
    s_bins: int = 4
    v_bins: int = 4


@dataclass(frozen=True)
class ExtractionConfig:
    orb: OrbConfig = field(default_factory=OrbConfig)
    colour: ColourConfig = field(default_factory=ColourConfig)
    keep_pixels: bool = False
    pixel_size: int = 100
    max_pixels: int = 4096 * 4096
    max_file_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReductionConfig:
    enabled: bool = True
    vocabulary_size: int = 64
    # 30,000 descriptors (~470 per visual word at k = 64) and 20 iterations: on the shared Fruits-360 sample the same
    # accuracy as 100,000 and 30 (1.000 all features, 0.953 vs 0.950 visual words alone) for ~40 % less k-means time
    descriptor_sample: int = 30_000
    kmeans_max_iter: int = 20
    pca_components: int = 32
    # The vocabulary and PCA are fitted on at most this many Training images, chosen by a seeded hash of their bank key
    # before anything is read (`reduction.fit_sample`): ~375k descriptors for a 30k sample and a 320-value vector per
    # image, so 5,000 images estimate 64 words and 32 components well, and neither the fit's cost nor its memory
    # grows with the bank
    fit_images: int = 5_000
    # Banks of at most this many images are extracted once and cached for the fit, which reads its sample's rows from
    # the cache; larger banks read only the fit sample for the fit, then the whole bank in one pass, with nothing
    # cached. Default runs on local[2], 2026-11-30, cached vs one pass: 447 vs 411 images/s at 20k, 784 vs 772 at 50k,
    # 896 vs 1,034 at 100k (whole-tree CPU 212 vs 185 s): the cache is worth it up to about 50k images
    cached_fit_max_images: int = 50_000
    seed: int = 42


@dataclass(frozen=True)
class EvaluationConfig:
    enabled: bool = True
    ablation: bool = False  # also score visual words alone, colour alone and both (3 more classifiers)
    max_iter: int = 200
    reg_param: float = 0.01
    # L-BFGS convergence tolerance. Spark ML's default 1e-6 took 141 Spark jobs on 20k images where 1e-4 takes 79,
    # with the same Test accuracy there (0.851) and on the shared Fruits-360 sample (1.000; 0.953 visual words alone)
    tol: float = 1e-4
    scatter_points: int = 2000


@dataclass(frozen=True)
class S3Config:
    """s3a settings; the endpoint falls back to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL."""

    endpoint: str = ""
    region: str = ""
    path_style: bool = False
    committer: str = "magic"


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool = True
    port: int = 0
    pushgateway: str = ""
    namespace: str = "fruit_pipeline"


@dataclass(frozen=True)
class EventLogConfig:
    """Spark event logs, read by the Spark History Server: on by default, zstd-compressed, rolled at a size."""

    enabled: bool = True
    dir: str = ""  # empty: `spark-events` next to the output (OUTPUT/../spark-events)
    rolling_max_file_size: str = "128m"


@dataclass(frozen=True)
class SparkConfig:
    master: str = "local[*]"
    profile: str = "local"
    app_name: str = "fruit-pipeline"
    partitions_per_core: int = 4
    arrow_batch_size: int = 512
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncrementConfig:
    """`run --mode append`: how the new and changed images are committed."""

    mode: str = "overwrite"  # "overwrite": replace the output; "append": extract only new/changed files, MERGE
    batch_files: int = 2000  # files extracted per Delta commit (a killed append redoes at most one batch)
    prune: bool = False  # append: delete rows of files no longer in the bank
    refit: bool = False  # append: refit the models on every Training row and rewrite every reduced vector
    evaluate: bool = False  # append without refit: evaluate the whole table anyway (the models did not change)
    watch_s: float = 0.0  # append: keep one Spark session and poll the bank every watch_s seconds (0: one run)


@dataclass(frozen=True)
class EmrConfig:
    """EMR on EKS job runs (`fruit-pipeline emr submit`); the job itself never reads these."""

    virtual_cluster_id: str = ""
    execution_role_arn: str = ""
    release_label: str = "emr-spark-8.0.0-latest"
    entry_point: str = "local:///opt/fruit-pipeline/run_job.py"
    job_name: str = "fruit-pipeline"
    image: str = ""
    venv_archive: str = ""
    driver_cores: int = 1
    driver_memory: str = "4g"
    executor_cores: int = 4
    executor_memory: str = "8g"
    executor_instances: int = 2
    log_uri: str = ""
    log_group: str = ""
    log_stream_prefix: str = "fruit-pipeline"
    persistent_app_ui: bool = True
    retry_max_attempts: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)
    client_token: str = ""
    region: str = ""


@dataclass(frozen=True)
class PipelineConfig:
    input: str = ""
    output: str = ""
    spark: SparkConfig = field(default_factory=SparkConfig)
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)
    reduction: ReductionConfig = field(default_factory=ReductionConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    s3: S3Config = field(default_factory=S3Config)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    event_log: EventLogConfig = field(default_factory=EventLogConfig)
    emr: EmrConfig = field(default_factory=EmrConfig)
    increment: IncrementConfig = field(default_factory=IncrementConfig)


PROFILES = ("local", "kubernetes", "emr")
MODES = ("overwrite", "append")


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML config file; any problem becomes a one-line UsageError."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except PermissionError:
        raise UsageError(f"config file not readable: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"config file is a directory: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check (and gently convert int->float) one value against its type hint."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise UsageError(f"{where} must be a table, got {type(value).__name__}")
        return from_mapping(hint, value, where)
    if origin in (collections.abc.Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            raise UsageError(f"{where} must be a table of strings")
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{where} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise UsageError(f"{where} must be a string, got {value!r}")
        return value
    return value


def from_mapping(cls: type, data: Mapping[str, Any], where: str = "config") -> Any:
    """Build dataclass `cls` from a (possibly partial) mapping, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UsageError(f"unknown key(s) in {where}: {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    kwargs = {key: _coerce(value, hints[key], f"{where}.{key}") for key, value in data.items()}
    return cls(**kwargs)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two nested dicts; `override` wins."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def validate(cfg: PipelineConfig) -> PipelineConfig:
    """Semantic checks that types alone cannot express."""
    if cfg.spark.profile not in PROFILES:
        raise UsageError(f"spark.profile must be one of {', '.join(PROFILES)}, got {cfg.spark.profile!r}")
    checks = [
        (cfg.increment.mode in MODES, f"increment.mode must be one of {', '.join(MODES)}"),
        (cfg.increment.batch_files > 0, "increment.batch_files must be > 0"),
        (cfg.increment.watch_s >= 0, "increment.watch_s must be >= 0"),
        (cfg.increment.watch_s == 0 or cfg.increment.mode == "append",
         "--watch (increment.watch_s) needs --mode append (increment.mode = \"append\")"),
        (cfg.extraction.orb.n_features > 0, "extraction.orb.n_features must be > 0"),
        (cfg.extraction.orb.patch_size >= 2, "extraction.orb.patch_size must be >= 2"),
        (cfg.extraction.max_pixels > 0, "extraction.max_pixels must be > 0"),
        (cfg.reduction.vocabulary_size >= 2, "reduction.vocabulary_size must be >= 2"),
        (cfg.reduction.pca_components >= 1, "reduction.pca_components must be >= 1"),
        (cfg.spark.arrow_batch_size >= 1, "spark.arrow_batch_size must be >= 1"),
        (cfg.spark.partitions_per_core >= 1, "spark.partitions_per_core must be >= 1"),
        (cfg.s3.committer in ("magic", "directory", "partitioned", "file"),
         "s3.committer must be magic, directory, partitioned or file"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    return cfg


def build_config(file_path: str | None, overrides: Mapping[str, Any]) -> PipelineConfig:
    """Defaults <- TOML file <- command-line overrides (a nested dict), validated."""
    data: dict[str, Any] = read_toml(file_path) if file_path else {}
    data = merge(data, overrides)
    return validate(from_mapping(PipelineConfig, data))


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-dict view of a config, for the manifest."""
    return dataclasses.asdict(cfg)
