"""What Spark itself saw during the run (lost executors, failed and retried tasks), from the driver's REST API."""

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
    """Counts from the REST API's `allexecutors` and `stages` answers (one `stages` entry per stage attempt).

    A lost executor makes its running tasks fail (`failed_tasks`, retried up to spark.task.maxFailures) and, when
    it held shuffle output or cached blocks, makes Spark rerun earlier stages (`stage_attempts_retried`)."""
    workers = [e for e in executors if e.get("id") != "driver"]
    lost = [e for e in workers if not e.get("isActive", True)]
    return {
        "executors": len(workers),
        "executors_lost": len(lost),
        "lost_executors": sorted(str(e["id"]) for e in lost),
        "lost_reasons": sorted({str(e.get("removeReason", ""))[:200] for e in lost if e.get("removeReason")}),
        "completed_tasks": sum(int(s.get("numCompleteTasks", 0)) for s in stages),
        "failed_tasks": sum(int(s.get("numFailedTasks", 0)) for s in stages),
        "killed_tasks": sum(int(s.get("numKilledTasks", 0)) for s in stages),
        "stage_attempts_retried": sum(1 for s in stages if int(s.get("attemptId", 0)) > 0),
        "failed_stage_attempts": sum(1 for s in stages if s.get("status") == "FAILED"),
        "tasks_by_executor": {str(e["id"]): int(e.get("totalTasks", 0)) for e in workers},
        # Task time over every stage attempt: executorRunTime is in ms, executorCpuTime in ns (Spark's REST API).
        "executor_run_time_s": round(sum(int(s.get("executorRunTime", 0)) for s in stages) / 1e3, 3),
        "executor_cpu_time_s": round(sum(int(s.get("executorCpuTime", 0)) for s in stages) / 1e9, 3),
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
