"""The options of `run` and `transform` and how they become a PipelineConfig override (no Spark, no AWS).

Shared by the CLI and by the EMR request builder, which parses a job run's arguments back with the job's own
options to prove that no setting is lost on the way (`cloud/emr_request.lost_settings`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

PROG = "fruit-pipeline"


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_kv(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


def add_job_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `transform`; defaults shown are the config's (`config.py`)."""
    from .config import PipelineConfig

    d = PipelineConfig()
    p.add_argument("--input", metavar="URI",
                   help="image bank: a directory, file:// or s3a:// URI (TOML: input; required here or there)")
    p.add_argument("--output", metavar="URI",
                   help="output folder or URI (TOML: output); a rerun replaces only what the previous run wrote "
                        "there; a non-empty folder fruit-pipeline did not write is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty folder that fruit-pipeline did not create; its files are kept "
                        "(default: refuse)")
    p.add_argument("--master", metavar="MASTER", help=f"Spark master URL (TOML: spark.master; default {d.spark.master})")
    p.add_argument("--profile", choices=("local", "kubernetes", "emr"),
                   help=f"Spark settings profile (TOML: spark.profile; default {d.spark.profile})")
    p.add_argument("--config", metavar="FILE",
                   help="TOML file with any setting, e.g. k8s/emr/job.toml; keys as in config.py: input, output, "
                        "[spark], [extraction], [extraction.orb], [reduction], [evaluation], [s3], [metrics]; "
                        "flags given here win")
    p.add_argument("--conf", action="append", type=parse_kv, default=[], metavar="KEY=VALUE",
                   help="extra Spark setting, repeatable (TOML: [spark.conf]; default none)")
    p.add_argument("--keep-pixels", action="store_true", default=None,
                   help="also store the flat 100x100x3 RGB vector, 30,000 bytes per image (TOML: "
                        "extraction.keep_pixels; default off)")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help=f"refuse images with more than N pixels, before decoding (TOML: extraction.max_pixels; "
                        f"default {d.extraction.max_pixels})")
    p.add_argument("--orb-features", type=int, metavar="N",
                   help=f"ORB keypoints per image at most (TOML: extraction.orb.n_features; "
                        f"default {d.extraction.orb.n_features})")
    p.add_argument("--partitions-per-core", type=int, metavar="N",
                   help=f"input tasks per core (TOML: spark.partitions_per_core; default {d.spark.partitions_per_core})")
    p.add_argument("--arrow-batch-size", type=int, metavar="N",
                   help=f"images per Arrow batch (TOML: spark.arrow_batch_size; default {d.spark.arrow_batch_size})")
    p.add_argument("--metrics-port", type=int, metavar="PORT",
                   help="serve job metrics on this TCP port while running (TOML: metrics.port; default 0 = off)")
    p.add_argument("--pushgateway", metavar="URL",
                   help="push job metrics to this Pushgateway URL: each stage's progress every 10 s, and the totals "
                        "at the end (TOML: metrics.pushgateway, or FRUIT_PIPELINE_PUSHGATEWAY; default none)")
    p.add_argument("--no-metrics", action="store_true",
                   help="disable Spark's and the job's metrics (TOML: metrics.enabled = false; default on)")
    p.add_argument("--s3-endpoint", metavar="URL",
                   help="S3 endpoint URL (TOML: s3.endpoint; default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, "
                        "else AWS)")
    p.add_argument("--event-log-dir", metavar="URI",
                   help="Spark event-log directory for the History Server (TOML: event_log.dir; default "
                        "spark-events next to the output)")
    p.add_argument("--no-event-log", action="store_true",
                   help="write no Spark event log (TOML: event_log.enabled = false; default on)")


def add_run_options(p: argparse.ArgumentParser) -> None:
    from .config import ReductionConfig

    d = ReductionConfig()
    p.add_argument("--vocabulary-size", type=int, metavar="K",
                   help=f"visual words, the KMeans k (TOML: reduction.vocabulary_size; default {d.vocabulary_size})")
    p.add_argument("--pca-components", type=int, metavar="N",
                   help=f"PCA components at most; fewer when Training has fewer rows (TOML: "
                        f"reduction.pca_components; default {d.pca_components})")
    p.add_argument("--no-reduction", action="store_true",
                   help="skip visual words, PCA and evaluation (TOML: reduction.enabled = false; default on)")
    p.add_argument("--no-evaluation", action="store_true",
                   help="skip the classifier (TOML: evaluation.enabled = false; default on)")
    p.add_argument("--mode", choices=("overwrite", "append"),
                   help="overwrite: replace the output (default); append: extract only the bank's new and changed "
                        "files and MERGE them into the Delta tables (TOML: increment.mode)")
    p.add_argument("--prune", action="store_true", default=None,
                   help="append: delete the rows of files no longer in the bank (TOML: increment.prune; default: "
                        "report them only)")
    p.add_argument("--refit", action="store_true", default=None,
                   help="append: refit the models on every Training row and rewrite every reduced vector (TOML: "
                        "increment.refit; default: apply OUTPUT/models)")
    p.add_argument("--evaluate", action="store_true", default=None,
                   help="append without --refit: evaluate the classifier on the whole table anyway (TOML: "
                        "increment.evaluate; default: skipped, the models did not change)")
    p.add_argument("--batch-files", type=int, metavar="N",
                   help="append: files per Delta commit; a killed append redoes at most one batch (TOML: "
                        "increment.batch_files; default 2000)")
    p.add_argument("--watch", type=float, metavar="SECONDS",
                   help="append: keep one Spark session and poll the bank every SECONDS; each poll that finds new, "
                        "changed (or, with --prune, deleted) files commits one increment, the others write nothing; "
                        "SIGTERM stops it after the current poll (TOML: increment.watch_s; default 0: one run)")
    p.add_argument("--ablation", action="store_true", default=None,
                   help="also train and score on visual words alone, colour alone and both, for the report's "
                        "ablation table: 3 more classifiers (TOML: evaluation.ablation; default off)")


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options as a nested dict shaped like PipelineConfig (unset ones omitted)."""
    pairs: list[tuple[tuple[str, ...], Any]] = [
        (("input",), resolve_local(args.input)),
        (("output",), resolve_local(args.output)),
        (("spark", "master"), args.master),
        (("spark", "profile"), args.profile),
        (("spark", "partitions_per_core"), args.partitions_per_core),
        (("spark", "arrow_batch_size"), args.arrow_batch_size),
        (("extraction", "keep_pixels"), args.keep_pixels),
        (("extraction", "max_pixels"), args.max_pixels),
        (("extraction", "orb", "n_features"), args.orb_features),
        (("metrics", "port"), args.metrics_port),
        (("metrics", "pushgateway"), args.pushgateway or os.environ.get("FRUIT_PIPELINE_PUSHGATEWAY") or None),
        (("metrics", "enabled"), False if args.no_metrics else None),
        (("s3", "endpoint"), args.s3_endpoint),
        (("event_log", "dir"), resolve_local(args.event_log_dir)),
        (("event_log", "enabled"), False if args.no_event_log else None),
        (("reduction", "vocabulary_size"), getattr(args, "vocabulary_size", None)),
        (("reduction", "pca_components"), getattr(args, "pca_components", None)),
        (("reduction", "enabled"), False if getattr(args, "no_reduction", False) else None),
        (("evaluation", "enabled"), False if getattr(args, "no_evaluation", False) else None),
        (("evaluation", "ablation"), getattr(args, "ablation", None)),
        (("increment", "mode"), getattr(args, "mode", None)),
        (("increment", "prune"), getattr(args, "prune", None)),
        (("increment", "refit"), getattr(args, "refit", None)),
        (("increment", "batch_files"), getattr(args, "batch_files", None)),
        (("increment", "evaluate"), getattr(args, "evaluate", None)),
        (("increment", "watch_s"), getattr(args, "watch", None)),
    ]
    out: dict[str, Any] = {}
    for keys, value in pairs:
        if value is None:
            continue
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    if args.conf:
        out.setdefault("spark", {})["conf"] = dict(args.conf)
    return out


def resolve_local(uri: str | None) -> str | None:
    """Local paths become absolute; URIs with a scheme are kept as they are."""
    if uri is None or "://" in uri or uri.startswith("file:"):
        return uri
    return str(Path(uri).expanduser().resolve())


def run_parser() -> Parser:
    """A parser of `run`'s own arguments (what follows `fruit-pipeline run`)."""
    parser = Parser(prog=f"{PROG} run")
    add_job_options(parser)
    add_run_options(parser)
    return parser
