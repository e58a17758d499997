"""Job metrics (prometheus-client). Placeholder API used by the pipeline; filled in by the metrics work."""

from __future__ import annotations

from typing import Any


class JobMetrics:
    """Lifecycle: started() at the beginning, finished(result, features) or failed(reason) at the end."""

    def __init__(self, cfg: Any, run_id: str) -> None:
        self.cfg = cfg
        self.run_id = run_id

    def started(self) -> None:
        """Start serving metrics (driver HTTP endpoint) if configured."""

    def finished(self, result: Any, features: Any) -> None:
        """Record the run's totals (from aggregates), push to the Pushgateway if configured."""

    def failed(self, reason: str) -> None:
        """Record a failed run and push it if configured."""

    def close(self) -> None:
        """Stop serving."""
