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


ERRORS_IN_SUMMARY = 5


def summary_table(manifest: dict[str, Any]) -> str:
    """A short human summary: counts, stage durations, total time, throughput, where things went, first errors."""
    counts = manifest["counts"]
    rows = [
        ("input files", f"{counts['input_files']}"),
        ("feature rows", f"{counts['features_rows']}"),
        ("error rows", f"{counts['error_rows']}"),
    ]
    skipped = manifest.get("skipped") or {}
    if skipped.get("files"):
        rows.append(("skipped files", f"{skipped['files']} ({skipped['image_files']} with an image extension)"))
    for stage, reason_count in sorted(manifest.get("errors_by_stage", {}).items()):
        rows.append((f"  errors at {stage}", str(reason_count)))
    for stage, seconds in manifest["durations_s"].items():
        rows.append((f"{stage} (s)", f"{seconds:.1f}"))
    if "wall_time_s" in manifest:
        rows.append(("total time (s)", f"{manifest['wall_time_s']:.1f}"))
    rows.append(("images/s", f"{manifest['images_per_s']:.1f}"))
    evaluation = manifest.get("evaluation") or {}
    if "accuracy" in evaluation:
        rows.append(("test accuracy", f"{evaluation['accuracy']:.3f}"))
    elif evaluation.get("skipped"):
        rows.append(("evaluation", f"skipped: {evaluation['skipped']}"))
    out = manifest["output"].rstrip("/")
    rows += [("manifest", f"{out}/manifest.json"), ("report", f"{out}/report/index.html"), ("errors", f"{out}/errors/")]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    errors = manifest.get("errors_sample") or []
    if errors:
        lines.append(f"first errors ({min(len(errors), ERRORS_IN_SUMMARY)} of {counts['error_rows']}):")
        lines += [f"  {e['path'].rsplit('/', 1)[-1]}: {e['stage']}: {e['reason']}" for e in errors[:ERRORS_IN_SUMMARY]]
    return "\n".join(lines)
