"""What Spark itself saw during the run (lost executors, failed task attempts), from the driver's REST API."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from pyspark import SparkContext

log = logging.getLogger(__name__)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the driver's own UI
        return json.loads(response.read())


def summarise(executors: list[dict], stages: list[dict]) -> dict[str, Any]:
    """Counts from the REST API's `allexecutors` and `stages` answers."""
    workers = [e for e in executors if e.get("id") != "driver"]
    lost = [e for e in workers if not e.get("isActive", True)]
    return {
        "executors": len(workers),
        "executors_lost": len(lost),
        "lost_reasons": sorted({str(e.get("removeReason", ""))[:200] for e in lost if e.get("removeReason")}),
        "failed_tasks": sum(int(s.get("numFailedTasks", 0)) for s in stages),
        "killed_tasks": sum(int(s.get("numKilledTasks", 0)) for s in stages),
        "tasks_by_executor": {e["id"]: int(e.get("totalTasks", 0)) for e in workers},
    }


def spark_status(sc: SparkContext) -> dict[str, Any]:
    """Executor and task-retry counts for the manifest; empty if the UI is off or unreachable."""
    base = sc.uiWebUrl
    if not base:
        return {}
    api = f"{base}/api/v1/applications/{sc.applicationId}"
    try:
        return summarise(_get(f"{api}/allexecutors"), _get(f"{api}/stages"))
    except Exception as exc:  # noqa: BLE001 - status is informative, never fatal
        log.warning("could not read Spark status from %s: %s", api, exc)
        return {}
