"""Cost of a run from its manifest's measured figures and a dated AWS price table (pure: no Spark, no network).

Model (every term is printed with the figure it comes from, marked measured or assumption):
- EC2: nodes x hourly price x wall time, on demand and spot (per-second billing, as EC2 bills Linux instances);
- EMR on EKS: its uplift on the vCPU and memory the job's pods request, per hour of wall time; the pods are assumed
  to request whole nodes (an assumption: EMR bills what the pods request);
- S3: one GET per input image, one PUT per output object (request prices; storage and transfer are left out).
Prices: `resources/aws_prices.toml` (region, date and source page of each figure).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable, Mapping

from ..errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    """One figure of the price table: `usd` per `unit`, from `source`, written down on `date`."""

    usd: float
    unit: str
    source: str
    date: str


@dataclass(frozen=True)
class Instance:
    region: str
    type: str
    vcpu: int
    memory_gib: float
    on_demand: Price
    spot: Price | None


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    instances: dict[tuple[str, str], Instance]
    emr_on_eks: dict[str, tuple[Price, Price]]  # region -> (per vCPU-hour, per GB-hour)
    s3: dict[str, tuple[Price, Price]]  # region -> (per 1,000 GET, per 1,000 PUT)

    def instance(self, region: str, instance_type: str) -> Instance:
        """The instance's prices; UsageError naming what the table has when it is unknown."""
        found = self.instances.get((region, instance_type))
        if found is None:
            known = sorted(f"{t} ({r})" for r, t in self.instances)
            raise UsageError(f"no price for instance type {instance_type!r} in {region}; the table has: "
                             f"{', '.join(known)} (pass --on-demand-price and --vcpu/--memory-gib for others)")
        return found


def parse_prices(data: Mapping[str, Any]) -> PriceTable:
    """PriceTable from the TOML structure of `aws_prices.toml`."""
    instances = {}
    for row in data.get("instance", []):
        date = row["date"]
        spot = (Price(row["spot_per_hour"], "instance-hour", row["spot_source"], date)
                if "spot_per_hour" in row else None)
        instances[(row["region"], row["type"])] = Instance(
            row["region"], row["type"], int(row["vcpu"]), float(row["memory_gib"]),
            Price(row["on_demand_per_hour"], "instance-hour", row["on_demand_source"], date), spot)
    emr = {row["region"]: (Price(row["per_vcpu_hour"], "vCPU-hour", row["source"], row["date"]),
                           Price(row["per_gb_hour"], "GB-hour", row["source"], row["date"]))
           for row in data.get("emr_on_eks", [])}
    s3 = {row["region"]: (Price(row["get_per_1000"], "1,000 GET", row["source"], row["date"]),
                          Price(row["put_per_1000"], "1,000 PUT", row["source"], row["date"]))
          for row in data.get("s3", [])}
    return PriceTable(str(data["as_of"]), instances, emr, s3)


def load_prices() -> PriceTable:
    """The price table shipped with the package."""
    text = resources.files("fruit_pipeline").joinpath("resources/aws_prices.toml").read_text(encoding="utf-8")
    return parse_prices(tomllib.loads(text))


@dataclass(frozen=True)
class RunFigures:
    """What a run measured (manifest.json): images, wall time in seconds, executors, CPU seconds if known."""

    images: int
    wall_time_s: float
    executors: int
    cpu_s: float | None
    output_objects: int | None


def figures_from_manifest(manifest: Mapping[str, Any], output_objects: int | None = None) -> RunFigures:
    """RunFigures of a manifest; UsageError when it lacks the counts or the wall time."""
    try:
        images = int(manifest["counts"]["input_files"])
        wall = float(manifest["wall_time_s"])
    except (KeyError, TypeError, ValueError):
        raise UsageError("manifest has no counts.input_files or wall_time_s: is it a fruit-pipeline manifest?") from None
    status = manifest.get("spark_status") or {}
    cpu = status.get("executor_cpu_time_s")
    return RunFigures(images, wall, int(status.get("executors", 0)), None if cpu is None else float(cpu),
                      output_objects)


@dataclass(frozen=True)
class Line:
    """One cost term: `usd` = `quantity` x `price.usd`; `basis` says which inputs were measured or assumed."""

    name: str
    quantity: float
    unit: str
    price: Price
    basis: str

    @property
    def usd(self) -> float:
        return self.quantity * self.price.usd


@dataclass(frozen=True)
class Estimate:
    """A run's cost on `nodes` x `instance`: totals on demand and on spot, and per million images."""

    figures: RunFigures
    nodes: int
    instance: Instance
    lines: tuple[Line, ...]
    assumptions: tuple[str, ...]

    def price(self, name: str) -> Price:
        """The unit price of the term called `name` (e.g. "EC2 spot")."""
        return next(line.price for line in self.lines if line.name == name)

    def total(self, capacity: str) -> float:
        """Total USD with EC2 on `capacity` ('on_demand' or 'spot')."""
        other = "EC2 spot" if capacity == "on_demand" else "EC2 on demand"
        return sum(line.usd for line in self.lines if line.name != other)

    def per_million(self, capacity: str) -> float:
        return self.total(capacity) / max(self.figures.images, 1) * PER_MILLION


def _node_hours(figures: RunFigures, nodes: int) -> float:
    return nodes * figures.wall_time_s / 3600.0


def estimate(figures: RunFigures, table: PriceTable, region: str, instance_type: str, nodes: int,
             emr_on_eks: bool = False, on_demand_price: float | None = None,
             spot_price: float | None = None) -> Estimate:
    """Cost of the run on `nodes` instances of `instance_type` in `region`; UsageError for unknown or missing prices."""
    if nodes < 1:
        raise UsageError(f"--nodes must be >= 1, got {nodes}")
    instance = table.instance(region, instance_type)
    on_demand = Price(on_demand_price, "instance-hour", "--on-demand-price", "given") if on_demand_price \
        else instance.on_demand
    spot = Price(spot_price, "instance-hour", "--spot-price", "given") if spot_price else instance.spot
    if spot is None:
        raise UsageError(f"no spot price for {instance_type} in {region} in the price table (pass --spot-price)")
    hours = _node_hours(figures, nodes)
    basis = "measured wall time x given nodes"
    lines = [Line("EC2 on demand", hours, "instance-hours", on_demand, basis),
             Line("EC2 spot", hours, "instance-hours", spot, basis)]
    assumptions = [f"the run takes its measured wall time ({figures.wall_time_s:.1f} s) on {nodes} x {instance_type}",
                   f"spot at {spot.usd} USD/h ({spot.source})"]
    if emr_on_eks:
        if region not in table.emr_on_eks:
            raise UsageError(f"no EMR on EKS price for {region} in the price table")
        per_vcpu, per_gb = table.emr_on_eks[region]
        lines.append(Line("EMR on EKS vCPU", hours * instance.vcpu, "vCPU-hours", per_vcpu, basis))
        lines.append(Line("EMR on EKS memory", hours * instance.memory_gib, "GB-hours", per_gb, basis))
        assumptions.append("the job's pods request whole nodes (EMR on EKS bills the pods' requested vCPU and memory)")
    lines.extend(_s3_lines(figures, table, region, assumptions))
    return Estimate(figures, nodes, instance, tuple(lines), tuple(assumptions))


def _s3_lines(figures: RunFigures, table: PriceTable, region: str, assumptions: list[str]) -> list[Line]:
    if region not in table.s3:
        raise UsageError(f"no S3 request price for {region} in the price table")
    get, put = table.s3[region]
    lines = [Line("S3 GET (bank)", figures.images / 1000, "1,000 requests", get, "measured input files")]
    if figures.output_objects is None:
        assumptions.append("output objects unknown (output not readable here): S3 PUT cost left out")
    else:
        lines.append(Line("S3 PUT (output)", figures.output_objects / 1000, "1,000 requests", put,
                          "counted output objects"))
    return lines


@dataclass(frozen=True)
class Projection:
    """Cost of `images` on the cluster, from a linear fit of CPU seconds on the benchmark's scaling rows; the
    totals include one S3 GET per image."""

    images: int
    cpu_s: float
    wall_s: float
    s3_get_usd: float
    on_demand_usd: float
    spot_usd: float


def fit_line(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of y = a + b x; needs two distinct x values."""
    pts = list(points)
    xs = [x for x, _ in pts]
    if len(set(xs)) < 2:
        raise UsageError("the benchmark has fewer than two scaling rows: nothing to project from")
    n = len(pts)
    mean_x = sum(xs) / n
    mean_y = sum(y for _, y in pts) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in pts) / sum((x - mean_x) ** 2 for x in xs)
    return mean_y - slope * mean_x, slope


def project(scaling: list[Mapping[str, Any]], sizes: Iterable[int], nodes: int, instance: Instance,
            on_demand: Price, spot: Price, get: Price) -> list[Projection]:
    """Project CPU seconds (a + b x images, fitted on the rows' `images`/`cpu_s`) onto nodes x vCPU, assumed
    CPU-bound and perfectly parallel (the benchmark's runs were CPU-bound throughout), billed per node-second."""
    intercept, slope = fit_line((float(row["images"]), float(row["cpu_s"])) for row in scaling)
    out = []
    for images in sizes:
        cpu = max(intercept, 0.0) + slope * images
        wall = cpu / (nodes * instance.vcpu)
        hours = nodes * wall / 3600.0
        reads = images / 1000 * get.usd
        out.append(Projection(images, cpu, wall, reads, hours * on_demand.usd + reads, hours * spot.usd + reads))
    return out


def _money(usd: float) -> str:
    return f"{usd:.6f}" if usd < 0.01 else f"{usd:.4f}" if usd < 10 else f"{usd:,.2f}"


def render(est: Estimate, projections: list[Projection] | None = None, as_of: str = "") -> str:
    """The `cost` command's text: the terms, totals, per million images, what is measured and what is assumed."""
    f = est.figures
    out = [f"run: {f.images} images in {f.wall_time_s:.1f} s (measured), {f.executors} executor(s)"
           + (f", {f.cpu_s:.1f} executor CPU s" if f.cpu_s is not None else ""),
           f"cluster: {est.nodes} x {est.instance.type} ({est.instance.vcpu} vCPU, {est.instance.memory_gib:g} GiB) "
           f"in {est.instance.region}; prices as of {as_of or est.instance.on_demand.date}", ""]
    width = max(len(line.name) for line in est.lines)
    for line in est.lines:
        out.append(f"{line.name.ljust(width)}  {_money(line.usd):>12} USD  = {line.quantity:.6g} {line.unit} x "
                   f"{line.price.usd} ({line.basis}; {line.price.source}, {line.price.date})")
    out.append("")
    for capacity, label in (("on_demand", "on demand"), ("spot", "spot")):
        out.append(f"total, EC2 {label}: {_money(est.total(capacity))} USD per run, "
                   f"{_money(est.per_million(capacity))} USD per million images")
    if projections:
        out.append("")
        out.append("projection (benchmark scaling rows, extraction only; CPU-bound, perfectly parallel: assumption):")
        for p in projections:
            out.append(f"  {p.images:>12,} images: {p.cpu_s:,.0f} CPU s, {_duration(p.wall_s)} on {est.nodes} node(s), "
                       f"{_money(p.on_demand_usd)} USD on demand, {_money(p.spot_usd)} USD spot "
                       f"(of which S3 GET {_money(p.s3_get_usd)})")
    out.append("")
    out.append("assumptions: " + "; ".join(est.assumptions))
    return "\n".join(out)


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(math.ceil(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


REPORT_INSTANCE = ("us-east-1", "m5.xlarge")


def report_text(images: int, wall_time_s: float, executors: int, cpu_s: float | None = None) -> str:
    """The report's cost section: this run priced on one m5.xlarge (us-east-1) per executor (at least one), as
    `fruit-pipeline cost` would print it; `cost --manifest` prices other clusters."""
    figures = RunFigures(images, wall_time_s, executors, cpu_s, None)
    table = load_prices()
    region, instance_type = REPORT_INSTANCE
    est = estimate(figures, table, region, instance_type, max(1, executors))
    return render(est, as_of=table.as_of) + (
        "\n(wall time up to the report; other clusters: fruit-pipeline cost --manifest OUT/manifest.json "
        "--instance-type TYPE --nodes N)")
