"""Keep Spark's own output off the terminal: the JVM's log4j lines and the Python workers' tracebacks go to a file.

Every child process (the JVM, its Python workers) writes to file descriptor 2. Pointing descriptor 2 at a log file
before Spark starts sends all of it there, while this process keeps writing its own lines (logging, the summary,
the one-line error) to the terminal through a duplicate of the original descriptor.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

log = logging.getLogger(__name__)


def spark_log_path(env: Mapping[str, str]) -> Path:
    """$XDG_CACHE_HOME/fruit-pipeline/logs/spark-<UTC time>-<pid>.log (~/.cache when unset)."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(base) / "fruit-pipeline" / "logs" / f"spark-{stamp}-{os.getpid()}.log"


KEEP_LOGS = 20


def prune_logs(folder: Path, keep: int = KEEP_LOGS) -> None:
    """Delete all but the newest `keep` Spark logs."""
    logs = sorted(folder.glob("spark-*.log"))
    for old in logs[:max(0, len(logs) - keep)]:
        old.unlink(missing_ok=True)


def children_output_to(path: Path) -> Path | None:
    """Send descriptor 2 of every child started from now on to `path` (the last 20 such logs are kept); returns
    it, or None if it cannot be created (then nothing changes)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        prune_logs(path.parent, KEEP_LOGS - 1)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        log.warning("Spark's log stays on the terminal: cannot create %s (%s)", path, exc.strerror)
        return None
    sys.stderr.flush()
    terminal = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    old = sys.stderr
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is old:
            handler.setStream(sys.stderr)
    return path
