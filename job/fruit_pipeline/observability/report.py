"""The manifest's content and the summary table printed at the end of a run."""

from __future__ import annotations

import platform
import re
from typing import Any

SECRET_KEY = re.compile(r"secret|password|token|credential|access\.key|session\.key", re.IGNORECASE)


def redact(conf: dict[str, Any]) -> dict[str, Any]:
    """Copy of a nested dict with secret-looking keys' values replaced."""
    out: dict[str, Any] = {}
    for key, value in conf.items():
        if isinstance(value, dict):
            out[key] = redact(value)
        elif SECRET_KEY.search(str(key)):
            out[key] = "***"
        else:
            out[key] = value
    return out


def library_versions() -> dict[str, str]:
    import cv2
    import numpy
    import pyarrow
    import pyspark

    from .. import __version__

    return {"fruit_pipeline": __version__, "python": platform.python_version(), "pyspark": pyspark.__version__,
            "opencv": cv2.__version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__}


def summary_table(manifest: dict[str, Any]) -> str:
    """A short human summary: counts, stage durations, throughput, where things went."""
    counts = manifest["counts"]
    rows = [
        ("input files", f"{counts['input_files']}"),
        ("feature rows", f"{counts['features_rows']}"),
        ("error rows", f"{counts['error_rows']}"),
    ]
    for stage, reason_count in sorted(manifest.get("errors_by_stage", {}).items()):
        rows.append((f"  errors at {stage}", str(reason_count)))
    for stage, seconds in manifest["durations_s"].items():
        rows.append((f"{stage} (s)", f"{seconds:.1f}"))
    rows.append(("images/s", f"{manifest['images_per_s']:.0f}"))
    evaluation = manifest.get("evaluation") or {}
    if "accuracy" in evaluation:
        rows.append(("test accuracy", f"{evaluation['accuracy']:.3f}"))
    elif evaluation.get("skipped"):
        rows.append(("evaluation", f"skipped: {evaluation['skipped']}"))
    rows.append(("output", manifest["output"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
