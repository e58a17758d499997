"""Pure arithmetic and shape of benchmarks/results/latest.json."""
from __future__ import annotations

REQUIRED_KEYS = ("images", "cores", "raw_images_per_s_per_core", "seed_images_per_s",
                 "ours_images_per_s", "ratio_vs_limit", "ratio_vs_seed", "peak_rss_mb")


def rate(images: int, seconds: float) -> float:
    """Images per second; 0 when nothing was timed."""
    return images / seconds if seconds > 0 else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator/denominator, or None when the denominator was not measured."""
    return round(numerator / denominator, 3) if denominator > 0 else None


def summary(images: int, cores: int, raw_per_core: float, seed: float, ours: float,
            peak_rss_mb: float) -> dict:
    """The result record: ours vs (raw per core x cores) and ours vs seed-style."""
    return {"images": images, "cores": cores, "raw_images_per_s_per_core": round(raw_per_core, 1),
            "seed_images_per_s": round(seed, 1), "ours_images_per_s": round(ours, 1),
            "ratio_vs_limit": ratio(ours, raw_per_core * cores), "ratio_vs_seed": ratio(ours, seed),
            "peak_rss_mb": round(peak_rss_mb, 1)}


def missing_keys(record: dict) -> list[str]:
    """Required keys absent from a result record."""
    return [k for k in REQUIRED_KEYS if k not in record]
