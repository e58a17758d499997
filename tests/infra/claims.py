"""Concurrent claims of one output (the output lock tests, local disk and S3)."""

from __future__ import annotations

import threading

from fruit_pipeline.config import PipelineConfig
from fruit_pipeline.stages.output_guard import OutputBusy, OutputGuard


def claim_concurrently(cfg: PipelineConfig, claimants: int, start_together: bool = True) -> list[object]:
    """`claimants` threads claim `cfg.output` (run ids r0, r1, ...); each result is the OutputGuard it won or the
    OutputBusy message it got. With `start_together` they are released at once by a barrier."""
    results: list[object] = []
    barrier = threading.Barrier(claimants)

    def claim(i: int) -> None:
        if start_together:
            barrier.wait()
        try:
            results.append(OutputGuard.claim(cfg, f"r{i}"))
        except OutputBusy as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimants)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
