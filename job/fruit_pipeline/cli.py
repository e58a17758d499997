"""`fruit-pipeline` command line: thin argument parsing over the pipeline modules."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from . import __version__
from .errors import PipelineError, UsageError
from .job_options import PROG, Parser, add_job_options, add_run_options, overrides_from_args, resolve_local


def _check_local_input(uri: str) -> None:
    if "://" in uri and not uri.startswith("file://"):
        return
    path = Path(uri.removeprefix("file://").removeprefix("file:"))
    if not path.exists():
        raise UsageError(f"input not found: {uri}")
    if not path.is_dir():
        raise UsageError(f"input is not a directory: {uri}")


def _job_config(args: argparse.Namespace, overrides: dict[str, Any]):
    """The config from --config and the flags, with input and output present (from either) and local paths
    made absolute; a missing local input is refused here, before Spark starts."""
    import dataclasses

    from .config import build_config

    cfg = build_config(args.config, overrides)
    for name in ("input", "output"):
        if not getattr(cfg, name):
            raise UsageError(f"no {name} given: --{name} or `{name}` in the --config file")
    cfg = dataclasses.replace(cfg, input=resolve_local(cfg.input), output=resolve_local(cfg.output))
    _check_local_input(cfg.input)
    return cfg


def _check_local_models(uri: str) -> None:
    if "://" in uri and not uri.startswith("file://"):
        return
    if not Path(uri.removeprefix("file://").removeprefix("file:")).is_dir():
        raise UsageError(f"models not found: {uri} (the models folder of an earlier run, OUTPUT/models)")


def _quiet_spark(args: argparse.Namespace, profile: str) -> None:
    """Locally, Spark's own lines go to a log file unless -v (on Kubernetes/EMR the container log is the place)."""
    if args.verbose or profile != "local":
        return
    from .console import children_output_to, spark_log_path

    path = children_output_to(spark_log_path(os.environ))
    if path is not None:
        logging.getLogger(PROG).info("Spark's own log: %s (-v shows it here)", path)


def cmd_run(args: argparse.Namespace) -> int:
    cfg = _job_config(args, overrides_from_args(args))
    from . import pipeline
    from .observability.report import summary_table

    if cfg.increment.watch_s:
        from .watching import watch

        _quiet_spark(args, cfg.spark.profile)
        watch(cfg, overwrite=args.overwrite, on_increment=lambda manifest: print(summary_table(manifest), flush=True))
        return 0
    manifest = pipeline.run(cfg, overwrite=args.overwrite, before_spark=lambda: _quiet_spark(args, cfg.spark.profile))
    print(summary_table(manifest))
    return 0


def cmd_transform(args: argparse.Namespace) -> int:
    """Apply saved models (vocabulary, scaler, PCA) to new images; no fitting, no evaluation."""
    overrides = overrides_from_args(args)
    overrides.setdefault("evaluation", {})["enabled"] = False
    cfg = _job_config(args, overrides)
    models = resolve_local(args.models)
    _check_local_models(models)
    from . import pipeline
    from .observability.report import summary_table

    manifest = pipeline.run(cfg, models_uri=models, overwrite=args.overwrite,
                            before_spark=lambda: _quiet_spark(args, cfg.spark.profile))
    print(summary_table(manifest))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from .sample_bank import BankSpec, write_bank

    spec = BankSpec(Path(args.out), args.classes, args.per_class, args.test_fraction, args.seed)
    written = write_bank(spec, workers=args.workers)
    print(f"wrote {written} images to {spec.out}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"run": cmd_run, "sample": cmd_sample,
                                                              "transform": cmd_transform}


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Fruits-360 image bank -> ORB, colour and reduced features (Parquet), on Spark.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, Spark's own log and failure tracebacks on the terminal (default: "
                             "Spark's log to a file)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only (default: progress too)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    run = sub.add_parser("run", help="extract features from an image bank into Parquet",
                         description="List, decode, extract ORB + colour features, reduce, evaluate and write Parquet. "
                                     "Every option can also be set in the --config TOML file (its key is given "
                                     "with each option; example: k8s/emr/job.toml).")
    add_job_options(run)
    add_run_options(run)

    transform = sub.add_parser("transform", help="apply the models saved by a run to new images",
                               description="Extract features and apply OUTPUT/models of an earlier run "
                                           "(visual words, scaling, PCA) without refitting.")
    transform.add_argument("--models", required=True, metavar="URI", help="the models directory of a run (OUTPUT/models)")
    add_job_options(transform)

    sample = sub.add_parser("sample", help="generate a synthetic Fruits-360 shaped bank",
                            description="Write DIR/Training/<Label>/<n>_100.jpg and DIR/Test/... (deterministic).")
    sample.add_argument("--out", required=True, metavar="DIR", help="folder to write the bank into (created)")
    sample.add_argument("--classes", type=int, default=5, metavar="N", help="number of classes (default 5)")
    sample.add_argument("--per-class", type=int, default=60, metavar="M", help="images per class (default 60)")
    sample.add_argument("--test-fraction", type=float, default=0.25, metavar="F", help="share in Test (default 0.25)")
    sample.add_argument("--seed", type=int, default=7, metavar="S",
                        help="random seed: the same seed gives the same images (default 7)")
    sample.add_argument("--workers", type=int, default=None, metavar="N", help="processes (default: all cores)")
    for extension in EXTENSIONS:
        extension(sub)
    return parser


# Other modules add subcommands here: callables taking the subparsers object.
EXTENSIONS: list[Callable[[Any], None]] = []

from .cloud.s3_upload import register as _register_upload  # noqa: E402  (`upload` subcommand)

EXTENSIONS.append(_register_upload)

from .cloud.emr import register as _register_emr  # noqa: E402  (`emr submit|status|wait|cancel`)

EXTENSIONS.append(_register_emr)

from .observability.cost_command import register as _register_cost  # noqa: E402  (`cost`)

EXTENSIONS.append(_register_cost)

from .observability.history_server import register as _register_history  # noqa: E402  (`history`)

EXTENSIONS.append(_register_history)


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("py4j", "botocore", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    handler = getattr(args, "handler", None) or COMMANDS[args.command]
    try:
        return handler(args)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every failure ends as one line
        return _report_failure(exc, args.verbose)


def _report_failure(exc: BaseException, verbose: bool) -> int:
    """One line on stderr and the exit code: 130 after Ctrl-C (whatever Spark raised then), the error's own code
    for a PipelineError (2 = usage), else 1 with the exception worded by `failures.describe` (-v: the traceback)."""
    from .failures import INTERRUPTED, describe

    if isinstance(exc, KeyboardInterrupt) or INTERRUPTED.is_set():
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, PipelineError):
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    if verbose:
        logging.getLogger(PROG).error("failed", exc_info=exc)
    print(f"{PROG}: error: {describe(exc)}", file=sys.stderr)
    return 1
