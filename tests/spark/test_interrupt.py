"""Ctrl-C on a real `fruit-pipeline run`: one line, exit 130, no stage reported done that did not finish, the
previous output untouched and the lock released; Spark's own lines went to the log file, not the terminal."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fruit_pipeline.config import PipelineConfig
from fruit_pipeline.sample_bank import BankSpec, write_bank
from fruit_pipeline.stages.output_guard import LOCK, OutputGuard

pytestmark = pytest.mark.spark


def _previous_output(bank: Path, out: Path) -> dict:
    """A committed output, as an earlier run leaves it (written through the same guard, without Spark)."""
    guard = OutputGuard.claim(PipelineConfig(input=str(bank), output=str(out)), "earlier")
    (Path(guard.staging_uri) / "features").mkdir(parents=True)
    (Path(guard.staging_uri) / "features" / "part-0.parquet").write_bytes(b"earlier rows")
    guard.commit({"run_id": "earlier"})
    guard.close()
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_ctrl_c_during_extraction(tmp_path):
    bank, out = tmp_path / "bank", tmp_path / "out"
    write_bank(BankSpec(bank, classes=4, per_class=150, test_fraction=0.25, seed=2), workers=2)
    before = _previous_output(bank, out)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "fruit_pipeline", "run", "--input", str(bank), "--output", str(out),
                             "--master", "local[2]", "--no-metrics", "--no-reduction"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, as a terminal's foreground job
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while not any("extract: started" in ln for ln in lines):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)[-3000:]
        time.sleep(0.2)
    time.sleep(3)
    sent = len(lines)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group (driver, JVM, Python workers)
    assert proc.wait(timeout=120) == 130, "".join(lines)[-3000:]
    reader.join(timeout=10)
    text = "".join(lines)
    after = [ln.rstrip("\n") for ln in lines[sent:] if "fruit_pipeline.progress: extract: " not in ln]
    assert after == ["fruit-pipeline: interrupted"], text[-3000:]
    assert "extract: done" not in text and "Traceback" not in text and "\tat " not in text and "WARN" not in text
    assert proc.stdout.read() == ""  # no summary
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not (out / LOCK).exists() and json.loads((out / "manifest.json").read_text())["run_id"] == "earlier"
    (log,) = (tmp_path / "cache" / "fruit-pipeline" / "logs").glob("spark-*.log")
    assert log.stat().st_size > 0 and f"Spark's own log: {log}" in text
