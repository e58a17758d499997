"""Write a Fruits-360 shaped synthetic bank to disk, in parallel worker processes."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2

from .errors import UsageError
from .imaging.synthetic import class_for, render_jpeg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BankSpec:
    out: Path
    classes: int = 5
    per_class: int = 60
    test_fraction: float = 0.25
    seed: int = 7

    def validate(self) -> "BankSpec":
        if self.classes < 1 or self.per_class < 1:
            raise UsageError("--classes and --per-class must be >= 1")
        if not 0.0 <= self.test_fraction < 1.0:
            raise UsageError("--test-fraction must be in [0, 1)")
        return self


def image_path(spec: BankSpec, class_index: int, image_index: int) -> Path:
    """Images whose index falls in the last test_fraction of each class go to Test."""
    n_test = int(round(spec.per_class * spec.test_fraction))
    split = "Test" if image_index >= spec.per_class - n_test else "Training"
    return spec.out / split / class_for(class_index).name / f"{image_index}_100.jpg"


def _write_chunk(args: tuple[BankSpec, int, range]) -> int:
    spec, class_index, indices = args
    cv2.setNumThreads(1)
    for i in indices:
        path = image_path(spec, class_index, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_jpeg(class_index, i, spec.seed))
    return len(indices)


def write_bank(spec: BankSpec, workers: int | None = None, chunk: int = 500) -> int:
    """Render every image of the bank; returns the number written. Same spec -> same bytes."""
    spec.validate()
    jobs = [(spec, c, range(s, min(s + chunk, spec.per_class)))
            for c in range(spec.classes) for s in range(0, spec.per_class, chunk)]
    total = spec.classes * spec.per_class
    workers = workers or max(1, os.cpu_count() or 1)
    done = 0
    if workers == 1 or total <= chunk:
        for job in jobs:
            done += _write_chunk(job)
    else:
        # spawn, not fork: a forked child inherits OpenCV's thread pool state and can deadlock.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for n in pool.map(_write_chunk, jobs):
                done += n
                log.info("sample: %d/%d images written", done, total)
    return done
