"""Turn the legs of a benchmark run into latest.json fields, a text table and a PNG (pure except `plot`)."""
from __future__ import annotations

import pathlib

from benchmarks.results import ratio

RATIO_BASIS = ("ours = `fruit-pipeline run --no-reduction` (list + decode + ORB + colour + Parquet write + counts), "
               "images/s from its manifest (SparkSession already up); limit = raw single-process images/s x cores; "
               "peers (Ray Data, Daft) = read + same per-image work + Parquet write, images/s once the engine is up, "
               "ratio_vs_<peer> = ours / peer")


# leg name -> how the peer is called in tables; keys of latest.json are "<leg>_images_per_s" and "ratio_vs_<leg>"
PEER_NAMES = {"peer_ray_data": "Ray Data", "peer_daft": "Daft"}


def peer_fields(legs: dict) -> dict:
    """Per peer leg present: its images/s and ours_extraction images/s / its images/s (None if it wrote nothing)."""
    ours = legs["ours_extraction"]["images_per_s"]
    out = {}
    for name in PEER_NAMES:
        if name in legs:
            peer = legs[name]["images_per_s"]
            out[f"{name}_images_per_s"] = peer
            out[f"ratio_vs_{name}"] = ratio(ours, peer)
    return out


def rss_growth(scaling: list[dict], key: str = "peak_rss_mb") -> float | None:
    """Peak memory (`key`) of the largest bank / of the smallest (1.0 = flat memory); None with < 2 sizes."""
    rows = sorted((r for r in scaling if key in r), key=lambda r: r["images"])
    if len(rows) < 2:
        return None
    return ratio(rows[-1][key], rows[0][key])


def extra_fields(legs: dict, scaling: list[dict], machine: dict, cores: int) -> dict:
    """Everything beyond the required keys: every leg, the full-run and S3 figures, scaling, machine."""
    full = legs.get("ours_full", {})
    s3 = legs.get("ours_s3a_extraction", {})
    limit = legs["raw"]["images_per_s"] * cores
    marginal = marginal_rate(scaling)
    out = {
        "ratio_basis": RATIO_BASIS,
        "seed_images_limited_to": legs["seed_style"].get("limited_to"),
        "ours_full_images_per_s": full.get("images_per_s"),
        "ratio_full_vs_seed": ratio(full["images_per_s"], legs["seed_style"]["images_per_s"]) if full else None,
        "s3a_images_per_s": s3.get("images_per_s"),
        "scaling": scaling,
        "rss_growth_largest_vs_smallest": rss_growth(scaling),
        "anon_growth_largest_vs_smallest": rss_growth(scaling, "peak_anon_mb"),
        "marginal_cpu_ms_per_image": marginal_cpu_ms(scaling),
        "marginal_images_per_s": marginal,
        "ratio_marginal_vs_limit": ratio(marginal, limit) if marginal is not None else None,
        "machine": machine,
        "machine_was_loaded": loaded(machine),
        "legs": legs,
        "raw_limit_images_per_s": round(limit, 1),
        "ratio_full_vs_limit": ratio(full["images_per_s"], limit) if full else None,
        **peer_fields(legs),
        **full_largest_fields(legs, scaling),
    }
    return out


def full_largest_fields(legs: dict, scaling: list[dict]) -> dict:
    """The full run on the largest scaling bank and its rate over the extraction-only rate on that same bank."""
    full = legs.get("ours_full_largest")
    same = [r for r in scaling if full and r["images"] == full["images"]]
    if not full or not same:
        return {}
    return {"full_largest_images": full["images"], "full_largest_images_per_s": full["images_per_s"],
            "ratio_full_vs_extraction_largest": ratio(full["images_per_s"], same[0]["images_per_s"])}


def marginal_cpu_ms(scaling: list[dict]) -> float | None:
    """CPU ms per extra image between the smallest and largest bank (fixed start-up costs cancel out)."""
    rows = sorted((r for r in scaling if "cpu_s" in r), key=lambda r: r["images"])
    if len(rows) < 2 or rows[-1]["images"] == rows[0]["images"]:
        return None
    return round(1000 * (rows[-1]["cpu_s"] - rows[0]["cpu_s"]) / (rows[-1]["images"] - rows[0]["images"]), 2)


def marginal_rate(scaling: list[dict]) -> float | None:
    """Images/s of the extra images between the two largest banks: the rate once the per-run fixed costs (JVM warm-up
    and JIT, worker imports, listing, job scheduling) are paid, comparable with the raw loop, which has none."""
    rows = sorted((r for r in scaling if r.get("images_per_s")), key=lambda r: r["images"])
    if len(rows) < 2 or rows[-1]["images"] == rows[-2]["images"]:
        return None
    seconds = [r["images"] / r["images_per_s"] for r in rows[-2:]]
    if seconds[1] <= seconds[0]:
        return None
    return round((rows[-1]["images"] - rows[-2]["images"]) / (seconds[1] - seconds[0]), 1)


def scaling_table(scaling: list[dict]) -> str:
    """Per bank size: rate, CPU, peak RSS and peak anonymous RSS (total; JVM, Python workers, driver Python)."""
    lines = [f"{'images':>8} {'images/s':>9} {'CPU s':>8} {'peak RSS MB':>12} {'anon MB':>8} {'JVM anon':>9} "
             f"{'py workers anon':>16} {'driver py anon':>15}"]
    for r in scaling:
        roles = r.get("peak_anon_mb_by_role", {})
        lines.append(f"{r['images']:>8} {r['images_per_s']:>9.1f} {r.get('cpu_s', 0):>8.1f} {r['peak_rss_mb']:>12.1f} "
                     f"{r.get('peak_anon_mb', 0):>8.1f} {roles.get('jvm', 0):>9.1f} "
                     f"{roles.get('python_worker', 0):>16.1f} {roles.get('driver_python', 0):>15.1f}")
    return "\n".join(lines)


def loaded(machine: dict) -> bool:
    """True when the 1-minute load average before the run exceeded the core count (rates understated). The load at
    the end is not used: the benchmark's own local[N] JVM and workers raise it above N."""
    start = machine.get("loadavg_start")
    return bool(start) and start[0] > (machine.get("nproc") or 1)


def seed_scope(record: dict) -> str:
    """Which images the seed-style leg ran on: all of the bank or only the first N."""
    limit = record.get("seed_images_limited_to")
    return f"all {limit} images" if limit == record["images"] else f"first {_fmt(limit)} images"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value}"


def text(record: dict) -> str:
    """The console summary of a run."""
    m = record.get("machine", {})
    legs = record.get("legs", {})
    lines = [
        f"machine: {m.get('nproc')} x {m.get('cpu_model')}, {m.get('memory_gb')} GB, "
        f"load {m.get('loadavg_start')} -> {m.get('loadavg_end')}",
        f"bank: {record['images']} images, local[{record['cores']}]",
        f"raw loop          {record['raw_images_per_s_per_core']:>9.1f} images/s per core "
        f"(limit x {record['cores']} = {record['raw_images_per_s_per_core'] * record['cores']:.1f})",
        f"seed-style        {record['seed_images_per_s']:>9.1f} images/s ({seed_scope(record)})",
        f"ours extraction   {record['ours_images_per_s']:>9.1f} images/s (--no-reduction; the ratios use this)",
        f"ours full run     {_fmt(record.get('ours_full_images_per_s')):>9} images/s (reduction + evaluation + report)",
        f"ours from S3      {_fmt(record.get('s3a_images_per_s')):>9} images/s (s3a:// SeaweedFS input, --no-reduction)",
        f"ratio ours / (raw x cores) = {_fmt(record['ratio_vs_limit'])}   (target >= 0.8)",
        f"ratio ours / seed-style    = {_fmt(record['ratio_vs_seed'])}   (target >= 5)",
        f"peak RSS (driver JVM + Python driver + workers) = {record['peak_rss_mb']} MB",
    ]
    for name, title in PEER_NAMES.items():
        if f"{name}_images_per_s" in record:
            leg = legs.get(name, {})
            lines.append(f"{title + ' (peer)':<17} {record[f'{name}_images_per_s']:>9.1f} images/s "
                         f"({leg.get('engine')} {leg.get('version')}, peak RSS {leg.get('peak_rss_mb')} MB); "
                         f"ours / {title} = {_fmt(record[f'ratio_vs_{name}'])}")
    if loaded(m):
        lines.insert(0, "WARNING: load average above the core count during the run: wall-clock rates are understated "
                        "and noisy (CPU seconds are still comparable); rerun on a quiet machine")
    if "ours_extraction" in legs:
        lines.append(f"ours stage times (s): {legs['ours_extraction'].get('durations_s')}")
    if "ours_full" in legs:
        lines.append(f"ours full run stage times (s): {legs['ours_full'].get('durations_s')}")
    if record.get("full_largest_images"):
        lines.append(f"full run on {record['full_largest_images']} images: {record['full_largest_images_per_s']} "
                     f"images/s = {_fmt(record['ratio_full_vs_extraction_largest'])} x the extraction-only run on "
                     f"that bank (target >= 0.5)")
    if record.get("scaling"):
        lines += ["scaling (ours, --no-reduction):", scaling_table(record["scaling"]),
                  f"peak RSS largest / smallest bank = {_fmt(record.get('rss_growth_largest_vs_smallest'))}, "
                  f"anonymous only = {_fmt(record.get('anon_growth_largest_vs_smallest'))} (1.0 = flat)",
                  f"marginal CPU per image (all processes) = {_fmt(record.get('marginal_cpu_ms_per_image'))} ms "
                  f"(raw loop: {_fmt(legs.get('raw', {}).get('cpu_ms_per_image'))} ms)",
                  f"marginal rate (two largest banks) = {_fmt(record.get('marginal_images_per_s'))} images/s = "
                  f"{_fmt(record.get('ratio_marginal_vs_limit'))} x limit (fixed costs excluded)"]
    return "\n".join(lines)


def plot(record: dict, path: pathlib.Path) -> None:
    """Throughput per leg (with the raw x cores limit) and the scaling table, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
    names = ["raw x cores", "seed-style", "ours extraction", "ours full", "ours S3"]
    values = [record["raw_images_per_s_per_core"] * record["cores"], record["seed_images_per_s"],
              record["ours_images_per_s"], record.get("ours_full_images_per_s") or 0,
              record.get("s3a_images_per_s") or 0]
    colours = ["#888", "#c44", "#2a7", "#396", "#37a"]
    for name, title in PEER_NAMES.items():
        if record.get(f"{name}_images_per_s") is not None:
            names.append(f"{title}\n(ours {record[f'ratio_vs_{name}']}x)")
            values.append(record[f"{name}_images_per_s"])
            colours.append("#b83")
    bars = left.bar(names, values, color=colours)
    left.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=8)
    left.axhline(0.8 * values[0], ls="--", color="k", lw=1, label="0.8 x limit")
    left.set_ylabel("images/s")
    left.set_title(f"{record['images']} images, local[{record['cores']}]")
    left.tick_params(axis="x", labelrotation=20)
    left.legend()
    scaling = record.get("scaling") or []
    if scaling:
        xs = [r["images"] for r in scaling]
        speed = right.plot(xs, [r["images_per_s"] for r in scaling], "o-", color="#2a7", label="images/s")
        right.set_xlabel("images")
        right.set_ylabel("images/s")
        twin = right.twinx()
        memory = twin.plot(xs, [r["peak_rss_mb"] for r in scaling], "s--", color="#a52", label="peak RSS MB")
        right.legend(handles=speed + memory, loc="lower right")
        twin.set_ylabel("peak RSS (MB)")
        twin.set_ylim(bottom=0)
        right.set_ylim(bottom=0)
        right.set_title("scaling (ours, --no-reduction)")
    m = record.get("machine", {})
    fig.suptitle(f"{m.get('nproc')} x {m.get('cpu_model')}, load {m.get('loadavg_start')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(record: dict) -> str:
    """The README table of a result record."""
    m = record.get("machine", {})
    rows = [
        ("raw loop, per core", record["raw_images_per_s_per_core"], ""),
        (f"raw x {record['cores']} cores (the limit)", round(record["raw_images_per_s_per_core"] * record["cores"], 1), ""),
        (f"seed-style ({seed_scope(record)})", record["seed_images_per_s"], ""),
        ("ours, `run --no-reduction` (ratios use this)", record["ours_images_per_s"],
         f"{_fmt(record['ratio_vs_limit'])} x limit, {_fmt(record['ratio_vs_seed'])} x seed-style"),
        ("ours, full `run`", _fmt(record.get("ours_full_images_per_s")), f"{_fmt(record.get('ratio_full_vs_limit'))} x limit"),
        ("ours, input from SeaweedFS `s3a://`", _fmt(record.get("s3a_images_per_s")), ""),
    ]
    legs = record.get("legs", {})
    rows += [(f"peer: {title} {legs.get(name, {}).get('version', '')}".rstrip(), record[f"{name}_images_per_s"],
              f"ours = {_fmt(record[f'ratio_vs_{name}'])} x {title}")
             for name, title in PEER_NAMES.items() if f"{name}_images_per_s" in record]
    lines = [f"{record['images']} images, local[{record['cores']}], {m.get('nproc')} x {m.get('cpu_model')}, "
             f"load {m.get('loadavg_start')} -> {m.get('loadavg_end')}:", "",
             "| leg | images/s | ratio |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {note} |" for name, value, note in rows]
    if record.get("scaling"):
        lines += ["", "| images (`--no-reduction`) | images/s | CPU s (all processes) | peak RSS MB | peak anonymous MB "
                      "(JVM / Python workers / driver Python) |", "|---|---|---|---|---|"]
        for r in record["scaling"]:
            roles = r.get("peak_anon_mb_by_role", {})
            lines.append(f"| {r['images']} | {r['images_per_s']} | {r.get('cpu_s', 'n/a')} | {r['peak_rss_mb']} | "
                         f"{_fmt(r.get('peak_anon_mb'))} ({roles.get('jvm', 0)} / {roles.get('python_worker', 0)} / "
                         f"{roles.get('driver_python', 0)}) |")
        lines += ["", f"Peak RSS, largest / smallest bank: {_fmt(record.get('rss_growth_largest_vs_smallest'))} "
                      f"(anonymous only: {_fmt(record.get('anon_growth_largest_vs_smallest'))}); "
                      f"marginal CPU per image: {_fmt(record.get('marginal_cpu_ms_per_image'))} ms "
                      f"(raw loop: {_fmt(record.get('legs', {}).get('raw', {}).get('cpu_ms_per_image'))} ms); "
                      f"marginal rate between the two largest banks: {_fmt(record.get('marginal_images_per_s'))} "
                      f"images/s = {_fmt(record.get('ratio_marginal_vs_limit'))} x limit."]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m benchmarks.report [latest.json]: the README table
    import json
    import sys

    source = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/latest.json")
    print(markdown(json.loads(source.read_text())))
