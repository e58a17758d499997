"""`fruit-pipeline cost`: a run's cost per run and per million images, from its manifest (see cost.py)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from . import cost

DEFAULT_SIZES = (1_000_000, 10_000_000)


def read_manifest(path: str) -> dict[str, Any]:
    """A local manifest.json (or an output folder holding one); UsageError when absent or not JSON."""
    file = Path(path)
    if file.is_dir():
        file = file / "manifest.json"
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"manifest not found: {file}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"manifest {file} is not JSON: {exc}") from None


def count_local_objects(output: str) -> int | None:
    """Files under a local output folder (each would be one PUT on S3); None when it is not a readable folder."""
    path = Path(output.removeprefix("file://").removeprefix("file:"))
    if "://" in output and not output.startswith("file:") or not path.is_dir():
        return None
    return sum(len(files) for _, _, files in os.walk(path))


def cmd_cost(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.manifest)
    objects = args.output_objects if args.output_objects is not None else count_local_objects(manifest.get("output", ""))
    figures = cost.figures_from_manifest(manifest, objects)
    table = cost.load_prices()
    est = cost.estimate(figures, table, args.region, args.instance_type, args.nodes, args.emr_on_eks,
                        args.on_demand_price, args.spot_price)
    projections = None
    if args.bench:
        bench = read_manifest(args.bench)
        scaling = bench.get("scaling") or []
        get = table.s3[args.region][0]
        projections = cost.project(scaling, DEFAULT_SIZES, args.nodes, est.instance, est.price("EC2 on demand"),
                                   est.price("EC2 spot"), get)
    print(cost.render(est, projections, table.as_of))
    return 0


def register(sub) -> None:
    """Add the `cost` subcommand to the CLI's subparsers."""
    p = sub.add_parser("cost", help="cost of a run per run and per million images (EC2, EMR on EKS, S3)",
                       description="Turn a run's measured figures (manifest.json) into a cost per run and per million "
                                   "images on a given cluster, on demand and spot, from the dated price table "
                                   "resources/aws_prices.toml (each figure with its source page).")
    p.add_argument("--manifest", required=True, metavar="PATH", help="manifest.json of a run, or its output folder")
    p.add_argument("--instance-type", default="m5.xlarge", metavar="TYPE", help="EC2 instance type (default m5.xlarge)")
    p.add_argument("--nodes", type=int, default=1, metavar="N", help="instances the run used (default 1)")
    p.add_argument("--region", default="us-east-1", metavar="REGION", help="AWS region (default us-east-1)")
    p.add_argument("--emr-on-eks", action="store_true", help="add EMR on EKS's per vCPU-hour and GB-hour uplift")
    p.add_argument("--on-demand-price", type=float, metavar="USD", help="override the on-demand USD per instance-hour")
    p.add_argument("--spot-price", type=float, metavar="USD", help="override the spot USD per instance-hour")
    p.add_argument("--output-objects", type=int, metavar="N",
                   help="objects the run wrote (default: counted when the output is a local folder)")
    p.add_argument("--bench", metavar="PATH",
                   help="benchmark results (benchmarks/results/latest.json): project 1M and 10M images from its "
                        "scaling rows")
    p.set_defaults(handler=cmd_cost)
