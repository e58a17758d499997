"""Raw reference: one Python process decoding + ORB + colour histogram in a plain loop."""
from __future__ import annotations

import argparse
import json
import pathlib
import resource
import time

from fruit_pipeline.config import ExtractionConfig
from fruit_pipeline.imaging import colour, orb
from fruit_pipeline.imaging.decode import decode

from benchmarks.results import rate


def run_raw(files: list[pathlib.Path], cfg: ExtractionConfig) -> dict:
    """Time the per-image pure functions with the pipeline's parameters (file reads included)."""
    detector = orb.make_detector(cfg.orb)
    start = time.perf_counter()
    for path in files:
        bgr = decode(path.read_bytes(), cfg.max_pixels)
        orb.detect(detector, bgr)
        colour.histogram(bgr, cfg.colour)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"images": len(files), "seconds": round(seconds, 3),
            "images_per_s": round(rate(len(files), seconds), 1), "peak_rss_mb": round(peak_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bank", type=pathlib.Path, help="a bank made by `fruit-pipeline sample`")
    parser.add_argument("--limit", type=int, default=0, help="time only the first N images")
    args = parser.parse_args()
    files = sorted(args.bank.rglob("*.jpg"))
    files = files[: args.limit] if args.limit else files
    print(json.dumps(run_raw(files, ExtractionConfig())))


if __name__ == "__main__":
    main()
