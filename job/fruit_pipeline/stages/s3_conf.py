"""S3A settings for the local/kubernetes profiles (EMR uses EMRFS s3:// and gets nothing from here)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..config import PipelineConfig
from ..jars_lock import read_lock

JARS_DIR = Path(__file__).resolve().parents[3] / ".cache" / "jars"
LOCK = Path(__file__).resolve().parents[3] / "image" / "jars.lock"
CREDENTIALS = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
COMMITTERS = ("magic", "directory", "partitioned", "file")
COMMIT_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
PARQUET_COMMITTER = "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"


def endpoint(cfg: PipelineConfig, env: Mapping[str, str]) -> str:
    """Configured endpoint, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (as the AWS SDKs do)."""
    return cfg.s3.endpoint or env.get("AWS_ENDPOINT_URL_S3", "") or env.get("AWS_ENDPOINT_URL", "")


def locked_jars(lock: Path = LOCK, jars_dir: Path = JARS_DIR) -> list[Path]:
    """Paths of the jars named in the lock file, inside `jars_dir`; none outside a checkout (the image bakes them in)."""
    if not lock.is_file():
        return []
    return [jars_dir / jar.file_name for jar in read_lock(lock)]


def committer_conf(name: str, output: str) -> dict[str, str]:
    """S3A committer settings. Default `magic`: tasks write multipart uploads straight to the final keys and the job
    commit only completes them, so nothing is copied (S3 has no rename; the classic `file` committer copies every
    object twice and is unsafe on failure). Spark SQL reaches the S3A committers only through spark-hadoop-cloud's
    PathOutputCommitProtocol + BindingParquetOutputCommitter (locked in image/jars.lock), set for s3a:// outputs."""
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
    conf = {
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
    if cfg.spark.profile == "local" and uses_s3a(cfg):
        jars = locked_jars(jars_dir=Path(env.get("FRUIT_PIPELINE_JARS_DIR", JARS_DIR)))
        if jars and all(j.exists() for j in jars):
            conf["spark.jars"] = ",".join(str(j) for j in jars)
    return conf

