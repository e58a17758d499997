"""Seed-style reference: the 2020 design, for comparison only.

The driver lists the paths, a per-row Python `udf` opens each file with Pillow and returns the pixels
as a list of ints, a second per-row `udf` rebuilds the array and runs ORB (a new detector per row),
and the rows (pixels + descriptors) go to Parquet. Spark's default settings (no Arrow).
Same ORB parameters as the pipeline, no colour histogram (the seed had none).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

from fruit_pipeline.config import OrbConfig


def seed_job(spark, paths: list[str], output: str, orb_cfg: OrbConfig) -> int:
    from pyspark.sql.functions import col, udf
    from pyspark.sql.types import ArrayType, BinaryType, IntegerType

    @udf(ArrayType(IntegerType()))
    def load_pixels(path):
        import numpy as np
        from PIL import Image

        with Image.open(path) as img:
            return np.asarray(img.convert("RGB").resize((100, 100))).flatten().tolist()

    @udf(ArrayType(BinaryType()))
    def orb_descriptors(pixels):
        import cv2
        import numpy as np

        from fruit_pipeline.imaging.orb import make_detector

        rgb = np.array(pixels, np.uint8).reshape(100, 100, 3)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        _, desc = make_detector(orb_cfg).detectAndCompute(gray, None)
        return [] if desc is None else [bytes(d) for d in desc]

    rows = [(p, pathlib.Path(p).parent.name) for p in paths]
    df = spark.createDataFrame(rows, ["path", "label"])
    out = df.withColumn("pixels", load_pixels(col("path"))).withColumn("descriptors", orb_descriptors(col("pixels")))
    out.write.mode("overwrite").parquet(output)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", required=True, type=pathlib.Path)
    parser.add_argument("--output", required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images (sorted paths)")
    args = parser.parse_args()

    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.master(args.master).appName("seed-style").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter()
    paths = sorted(str(p) for p in args.input.rglob("*.jpg"))  # listed on the driver
    paths = paths[: args.limit] if args.limit else paths
    n = seed_job(spark, paths, args.output, OrbConfig())
    seconds = time.perf_counter() - start
    spark.stop()
    print(json.dumps({"images": n, "seconds": round(seconds, 3), "images_per_s": round(n / seconds, 1)}))


if __name__ == "__main__":
    main()
