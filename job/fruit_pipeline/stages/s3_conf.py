"""S3A settings for the local/kubernetes profiles (EMR uses EMRFS s3:// and gets nothing from here)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

from ..config import PipelineConfig
from ..errors import PipelineError
from ..jars_lock import LOCK, JarError, LockedJar, fetch, is_present, read_lock

log = logging.getLogger(__name__)
JARS_DIR = Path(__file__).resolve().parents[3] / ".cache" / "jars"  # `make jars` in a checkout
CREDENTIALS = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
COMMITTERS = ("magic", "directory", "partitioned", "file")
COMMIT_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
PARQUET_COMMITTER = "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
DELTA_GROUP = "io.delta"  # the Delta Lake jars of the lock; every other line is an S3A jar


def endpoint(cfg: PipelineConfig, env: Mapping[str, str]) -> str:
    """Configured endpoint, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (as the AWS SDKs do)."""
    return cfg.s3.endpoint or env.get("AWS_ENDPOINT_URL_S3", "") or env.get("AWS_ENDPOINT_URL", "")


def user_cache_dir(env: Mapping[str, str]) -> Path:
    """Where an installed job keeps the jars it fetched: $XDG_CACHE_HOME/fruit-pipeline/jars (~/.cache/...)."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fruit-pipeline" / "jars"


def jars_dir(env: Mapping[str, str]) -> Path:
    """FRUIT_PIPELINE_JARS_DIR, else a checkout's `.cache/jars` when `make jars` filled it, else the user cache."""
    if env.get("FRUIT_PIPELINE_JARS_DIR"):
        return Path(env["FRUIT_PIPELINE_JARS_DIR"])
    if all((JARS_DIR / jar.file_name).is_file() for jar in read_lock(LOCK)):
        return JARS_DIR
    return user_cache_dir(env)


def locked_jars(lock: Path = LOCK, directory: Path | None = None) -> list[Path]:
    """Paths of the jars named in the lock file, inside `directory` (default `jars_dir`)."""
    directory = jars_dir(os.environ) if directory is None else directory
    return [directory / jar.file_name for jar in read_lock(lock)]


def spark_has_s3a(env: Mapping[str, str]) -> bool:
    """True when Spark's own jars folder already holds every locked jar (our image bakes them in)."""
    return _spark_has(read_lock(LOCK), env)


def _spark_has(jars: list[LockedJar], env: Mapping[str, str]) -> bool:
    import importlib.util

    homes = [env.get("SPARK_HOME", "")]
    spec = importlib.util.find_spec("pyspark")
    if spec and spec.origin:
        homes.append(os.path.dirname(spec.origin))
    names = [jar.file_name for jar in jars]
    return any(home and all(os.path.isfile(os.path.join(home, "jars", n)) for n in names) for home in homes)


def run_jars(cfg: PipelineConfig, env: Mapping[str, str]) -> list[LockedJar]:
    """The locked jars a local run puts on its classpath: Delta Lake always (the tables), the S3A ones only for
    s3a:// URIs; none when Spark already holds them (our image) or on other profiles (their image / EMR)."""
    if cfg.spark.profile != "local":
        return []
    wanted = [jar for jar in read_lock(LOCK) if jar.group == DELTA_GROUP or uses_s3a(cfg)]
    return [] if _spark_has(wanted, env) else wanted


def needs_jars(cfg: PipelineConfig, env: Mapping[str, str]) -> bool:
    return bool(run_jars(cfg, env))


def ensure_jars(cfg: PipelineConfig, env: Mapping[str, str]) -> None:
    """Fetch the run's locked jars on first use (sha256-checked); one line if we cannot."""
    jars = run_jars(cfg, env)
    if not jars:
        return
    directory = jars_dir(env)
    missing = [jar for jar in jars if not is_present(jar, directory)]
    if not missing:
        return
    log.info("fetching %d jar(s) into %s (once)", len(missing), directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for jar in missing:
            fetch(jar, directory)
    except (JarError, OSError) as exc:
        what = "s3a:// needs the S3A jars" if uses_s3a(cfg) else "the Delta tables need the Delta Lake jars"
        raise PipelineError(f"{what} and they could not be fetched into {directory}: {exc}; "
                            "fetch them with `python -m fruit_pipeline.jars_lock DIR` where there is network "
                            "access and set FRUIT_PIPELINE_JARS_DIR=DIR") from None


def committer_conf(name: str, output: str) -> dict[str, str]:
    """S3A committer settings. Default `magic`: tasks write multipart uploads straight to the final keys and the job
    commit only completes them, so nothing is copied (S3 has no rename; the classic `file` committer copies every
    object twice and is unsafe on failure). Spark SQL reaches the S3A committers only through spark-hadoop-cloud's
    PathOutputCommitProtocol + BindingParquetOutputCommitter (locked in resources/jars.lock), set for s3a:// outputs."""
    if name not in COMMITTERS:
        raise ValueError(f"s3.committer must be one of {', '.join(COMMITTERS)}, got {name!r}")
    if name == "file":
        return {}
    conf = {
        "spark.hadoop.fs.s3a.committer.name": name,
        "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a":
            "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
    }
    if name == "magic":
        conf["spark.hadoop.fs.s3a.committer.magic.enabled"] = "true"
    if output.startswith("s3a://"):
        conf["spark.sql.sources.commitProtocolClass"] = COMMIT_PROTOCOL
        conf["spark.sql.parquet.output.committer.class"] = PARQUET_COMMITTER
    return conf


def uses_s3a(cfg: PipelineConfig) -> bool:
    """Only then the locked S3A jars (~9 MB) go on the local classpath."""
    return any(uri.startswith("s3a://") for uri in (cfg.input, cfg.output))


def s3_conf(cfg: PipelineConfig, env: Mapping[str, str]) -> dict[str, str]:
    """s3a:// settings; credentials come from the SDK default chain (env, web identity/IRSA, Pod Identity)."""
    if cfg.spark.profile == "emr":
        return {}
    conf = {}
    jars = run_jars(cfg, env)
    if jars:  # `ensure_jars` fetched them before the session starts
        conf["spark.jars"] = ",".join(str(jars_dir(env) / jar.file_name) for jar in jars)
    conf |= {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider": CREDENTIALS,
        "spark.hadoop.fs.s3a.path.style.access": str(cfg.s3.path_style).lower(),
    }
    url = endpoint(cfg, env)
    if url:
        conf["spark.hadoop.fs.s3a.endpoint"] = url
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(url.startswith("https")).lower()
    if cfg.s3.region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = cfg.s3.region
    conf.update(committer_conf(cfg.s3.committer, cfg.output))
    return conf

