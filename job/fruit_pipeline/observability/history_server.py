"""`fruit-pipeline history`: Spark's own History Server over the runs' event logs (local, s3a://, s3:// on EMR).

It is `org.apache.spark.deploy.history.HistoryServer` from the Spark distribution at hand ($SPARK_HOME, else the
installed pyspark), run in the foreground (the process is replaced by the JVM, so signals reach it directly). Its
settings are `spark.*` JVM system properties, which every SparkConf loads; S3 settings and the s3a jars come from the
same code as the job's (stages/s3_conf.py), credentials from the AWS SDK default chain. REST API: /api/v1/applications.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Mapping

from ..config import PipelineConfig, S3Config, SparkConfig
from ..errors import UsageError
from ..stages.s3_conf import ensure_jars, s3_conf

MAIN_CLASS = "org.apache.spark.deploy.history.HistoryServer"
DEFAULT_PORT = 18080


def spark_home(env: Mapping[str, str]) -> Path:
    """$SPARK_HOME (the image's /opt/spark), else the pyspark package, which holds the same jars/."""
    if env.get("SPARK_HOME"):
        return Path(env["SPARK_HOME"])
    import pyspark

    return Path(pyspark.__file__).parent


def java_binary(env: Mapping[str, str]) -> str:
    """$JAVA_HOME/bin/java, else `java` on PATH; UsageError when neither exists."""
    if env.get("JAVA_HOME") and Path(env["JAVA_HOME"], "bin", "java").is_file():
        return str(Path(env["JAVA_HOME"], "bin", "java"))
    found = shutil.which("java", path=env.get("PATH"))
    if not found:
        raise UsageError("java not found: install a Java 17 runtime or set JAVA_HOME")
    return found


def settings(log_dir: str, port: int, s3: S3Config, profile: str, env: Mapping[str, str],
             extra: Mapping[str, str]) -> dict[str, str]:
    """The History Server's Spark settings: log directory, port, S3 access when the directory is on S3."""
    conf = {"spark.history.fs.logDirectory": log_dir, "spark.history.ui.port": str(port),
            "spark.history.fs.update.interval": "5s"}
    if log_dir.startswith(("s3a://", "s3://")):
        as_s3a = "s3a://" + log_dir.split("://", 1)[1]
        cfg = PipelineConfig(input=as_s3a, s3=s3, spark=SparkConfig(profile=profile))
        ensure_jars(cfg, env)
        conf.update({k: v for k, v in s3_conf(cfg, env).items() if k.startswith(("spark.hadoop.", "spark.jars"))})
        if log_dir.startswith("s3://"):  # EMR's event logs: read s3:// through S3A outside EMR
            conf["spark.hadoop.fs.s3.impl"] = conf["spark.hadoop.fs.s3a.impl"]
    conf.update(extra)
    return conf


def command(conf: Mapping[str, str], env: Mapping[str, str], heap: str = "1g") -> list[str]:
    """The java command line: Spark's jars (plus spark.jars) on the classpath, settings as -D properties."""
    home = spark_home(env)
    classpath = [str(home / "conf"), str(home / "jars" / "*"), *filter(None, conf.get("spark.jars", "").split(","))]
    props = [f"-D{key}={value}" for key, value in sorted(conf.items()) if key != "spark.jars"]
    return [java_binary(env), f"-Xmx{heap}", "-cp", ":".join(classpath), *props, MAIN_CLASS]


def _kv(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def cmd_history(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    log_dir = args.dir if "://" in args.dir or args.dir.startswith("file:") else f"file://{Path(args.dir).resolve()}"
    if log_dir.startswith("file:") and not Path(log_dir.removeprefix("file://").removeprefix("file:")).is_dir():
        raise UsageError(f"event log directory not found: {args.dir}")
    s3 = S3Config(endpoint=args.s3_endpoint or "", path_style=args.s3_path_style)
    conf = settings(log_dir, args.port, s3, args.profile, env, dict(args.conf))
    if args.host:
        env["SPARK_LOCAL_IP"] = args.host  # the address Spark's web UI binds to
    argv = command(conf, env, args.heap)
    print(f"history server: {log_dir} on port {args.port} (REST API /api/v1/applications)", flush=True)
    os.execve(argv[0], argv, env)
    return 0  # pragma: no cover - execve does not return


def register(sub) -> None:
    """Add the `history` subcommand to the CLI's subparsers."""
    p = sub.add_parser("history", help="serve the runs' Spark event logs with Spark's History Server",
                       description="Run Spark's History Server (foreground) over an event-log directory: a folder, "
                                   "s3a:// or s3:// URI (the runs' default is spark-events next to their output).")
    p.add_argument("--dir", required=True, metavar="URI", help="event-log directory (spark.eventLog.dir of the runs)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="PORT", help=f"UI/REST port (default {DEFAULT_PORT})")
    p.add_argument("--host", metavar="ADDRESS", help="address to bind (default: all interfaces)")
    p.add_argument("--s3-endpoint", metavar="URL", help="S3 endpoint (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)")
    p.add_argument("--s3-path-style", action="store_true", help="path-style S3 requests (SeaweedFS, MinIO)")
    p.add_argument("--profile", choices=("local", "kubernetes"), default="local",
                   help="local: add the locked s3a jars to the classpath; kubernetes: the image already has them")
    p.add_argument("--heap", default="1g", metavar="SIZE", help="JVM heap (default 1g)")
    p.add_argument("--conf", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="extra spark.history.* setting, repeatable")
    p.set_defaults(handler=cmd_history)
