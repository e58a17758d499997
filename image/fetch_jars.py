#!/usr/bin/env python3
"""Download the jars of job/fruit_pipeline/resources/jars.lock into DIR, sha256-checked (`make jars`, the image build).

A thin wrapper: the logic lives in the package (job/fruit_pipeline/jars_lock.py, standard library only), loaded by
path because this runs before the project is installed.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "job" / "fruit_pipeline" / "jars_lock.py"


def _jars_lock():
    spec = importlib.util.spec_from_file_location("jars_lock", MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(_jars_lock().main(sys.argv[1:]))
