"""The output contract without Spark: locations, refusals, the lock and the commit, on a real local folder."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.claims import claim_concurrently
from fruit_pipeline.config import PipelineConfig
from fruit_pipeline.errors import UsageError
from fruit_pipeline.stages.output_guard import LOCK, OutputBusy, OutputGuard, overlaps, owned_files, refusal


@pytest.mark.parametrize("a,b,expected", [
    ("/data/bank", "/data/bank/out", True),
    ("/data/bank/out", "/data/bank", True),
    ("/data/bank", "/data/bank", True),
    ("/data/bank", "/data/bank-out", False),
    ("/data/bank", "file:///data/bank/x", True),
    ("s3a://b/bank", "s3://b/bank/out", True),
    ("s3a://b/bank", "s3a://c/bank/out", False),
    ("s3a://b/bank", "s3a://b/bank2", False),
    ("/data/bank", "s3a://data/bank", False),
])
def test_overlaps(a, b, expected):
    assert overlaps(a, b) is expected


def test_refusal_rules():
    files = ["notes.txt", "features/README-mine.txt"]
    assert "not written by fruit-pipeline (notes.txt, features/README-mine.txt)" in refusal("/o", files, set(), False)
    assert "did not write where it writes (features/README-mine.txt)" in refusal("/o", files, set(), True)
    assert refusal("/o", ["notes.txt"], set(), True) is None
    assert refusal("/o", ["notes.txt", "manifest.json"], {"manifest.json"}, False) is None
    assert refusal("/o", [], set(), False) is None


def test_owned_files_from_ledger_or_legacy_manifest():
    files = ["features/a.parquet", "features/mine.txt", "manifest.json", "notes.txt"]
    ledger = json.dumps({"files": ["features/a.parquet", "manifest.json", "gone.parquet"]})
    assert owned_files(ledger, None, files) == {"features/a.parquet", "manifest.json"}
    legacy = owned_files(None, '{"run_id": "x"}', files)
    assert legacy == {"features/a.parquet", "features/mine.txt", "manifest.json"}
    assert owned_files(None, None, files) == set()


def _cfg(tmp_path: Path, out: str = "out") -> PipelineConfig:
    (tmp_path / "bank").mkdir(exist_ok=True)
    return PipelineConfig(input=str(tmp_path / "bank"), output=str(tmp_path / out))


def _fake_run(cfg: PipelineConfig, run_id: str, rows: str, overwrite: bool = False, commit: bool = True) -> None:
    """What a run does to its output: claim, write into staging, commit (or fail before it), close."""
    guard = OutputGuard.claim(cfg, run_id, overwrite)
    try:
        staging = Path(guard.staging_uri)
        for rel in ("features/split=Training/part-0.parquet", "errors/part-0.parquet", "report/index.html"):
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(f"{run_id} {rows}")
        if commit:
            guard.commit({"run_id": run_id, "rows": rows})
    finally:
        guard.close()


def test_commit_replaces_only_our_files_and_keeps_others(tmp_path):
    cfg = _cfg(tmp_path)
    _fake_run(cfg, "r1", "a")
    out = tmp_path / "out"
    (out / "notes.txt").write_text("mine")
    _fake_run(cfg, "r2", "b")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "features/split=Training/part-0.parquet").read_text() == "r2 b"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == "r2"
    assert manifest["files"] == ["errors/part-0.parquet", "features/split=Training/part-0.parquet", "report/index.html"]
    assert sorted(p.name for p in (out / ".fruit-pipeline").iterdir()) == ["files.json", "runs", "staging"]
    assert list((out / ".fruit-pipeline" / "staging").iterdir()) == []


def test_a_failed_run_leaves_the_previous_output_valid(tmp_path):
    cfg = _cfg(tmp_path)
    _fake_run(cfg, "r1", "a")
    before = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*")
              if p.is_file() and ".fruit-pipeline" not in p.parts}
    _fake_run(cfg, "r2", "b", commit=False)
    after = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "out").rglob("*")
             if p.is_file() and ".fruit-pipeline" not in p.parts}
    assert after == before and json.loads((tmp_path / "out/manifest.json").read_text())["run_id"] == "r1"


def test_a_foreign_folder_is_refused_untouched_and_overwrite_keeps_its_files(tmp_path):
    cfg = _cfg(tmp_path)
    out = tmp_path / "out"
    (out / "report").mkdir(parents=True)
    (out / "report" / "custom.html").write_text("mine")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty and was not written by fruit-pipeline"):
        _fake_run(cfg, "r1", "a")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report"]  # nothing created, not even the lock
    with pytest.raises(UsageError, match=r"did not write where it writes \(report/custom.html\)"):
        _fake_run(cfg, "r1", "a", overwrite=True)
    (out / "report" / "custom.html").unlink()
    _fake_run(cfg, "r1", "a", overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "manifest.json").exists()
    (out / "features" / "README-mine.txt").write_text("mine")
    with pytest.raises(UsageError, match="features/README-mine.txt"):
        _fake_run(cfg, "r2", "b")
    assert (out / "features" / "README-mine.txt").read_text() == "mine"


def test_an_output_that_is_a_file_or_unwritable_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        OutputGuard.claim(_cfg(tmp_path, "file"), "r1")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        OutputGuard.claim(_cfg(tmp_path, "file/below"), "r1")
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    # Root ignores mode bits (CI runs as root); an immutable folder refuses even root (CAP_LINUX_IMMUTABLE).
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(read_only)]).returncode == 0
    try:
        with pytest.raises(UsageError, match="cannot write the output .*ro/x: (permission denied|operation not permitted)"):
            OutputGuard.claim(_cfg(tmp_path, "ro/x"), "r1")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(read_only)], check=True)


def test_output_overlapping_the_input_or_models_is_refused(tmp_path):
    cfg = PipelineConfig(input=str(tmp_path / "bank"), output=str(tmp_path / "bank" / "out"))
    with pytest.raises(UsageError, match="overlap: a run would read its own output"):
        OutputGuard.claim(cfg, "r1")
    with pytest.raises(UsageError, match="models .* are inside the output"):
        OutputGuard.claim(_cfg(tmp_path), "r1", models=str(tmp_path / "out" / "models"))
    assert not (tmp_path / "bank" / "out").exists()


def test_exactly_one_of_many_concurrent_claims_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "4")  # losers are refused once they see a renewal
    cfg = _cfg(tmp_path)
    results = claim_concurrently(cfg, 8)
    winners = [r for r in results if isinstance(r, OutputGuard)]
    assert len(winners) == 1 and len(results) == 8
    assert all("is writing to" in r and winners[0].run_id in r for r in results if isinstance(r, str))
    winners[0].close()
    assert not (tmp_path / "out" / LOCK).exists()
    OutputGuard.claim(cfg, "after").close()


def _killed(guard: OutputGuard) -> None:
    """As if the process holding `guard` was killed: no more renewals, the lock stays."""
    guard._stop.set()
    guard._beat.join()
    guard.locked = False


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path):
    cfg = _cfg(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    guard = OutputGuard.claim(cfg, "r1")
    _killed(guard)
    holder = json.loads((tmp_path / "out" / LOCK).read_text())
    (tmp_path / "out" / LOCK).write_text(json.dumps({**holder, "pid": int(dead.stdout)}))
    started = time.monotonic()
    OutputGuard.claim(cfg, "r2").close()
    assert time.monotonic() - started < 2 and not (tmp_path / "out" / LOCK).exists()


def test_a_lease_not_renewed_expires_and_one_renewed_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "3")
    cfg = _cfg(tmp_path)
    alive = OutputGuard.claim(cfg, "alive")
    time.sleep(3.5)  # longer than the lease: only the renewals keep it
    started = time.monotonic()
    with pytest.raises(OutputBusy, match=r"run alive, host .* its lock expires 3.0 s after its last renewal"):
        OutputGuard.claim(cfg, "second")
    assert time.monotonic() - started < 3  # refused once a renewal was seen (every 0.75 s)
    _killed(alive)
    holder = json.loads((tmp_path / "out" / LOCK).read_text())
    (tmp_path / "out" / LOCK).write_text(json.dumps({**holder, "host": "elsewhere"}))  # killed on another host
    started = time.monotonic()
    taker = OutputGuard.claim(cfg, "taker")
    assert 0.5 < time.monotonic() - started < 6  # waited for the lease to expire, then took over
    assert json.loads((tmp_path / "out" / LOCK).read_text())["run_id"] == "taker"
    taker.close()


def test_a_holder_that_lost_its_lock_does_not_commit(tmp_path, monkeypatch):
    from fruit_pipeline.errors import PipelineError

    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "1")
    cfg = _cfg(tmp_path)
    guard = OutputGuard.claim(cfg, "r1")
    lock = tmp_path / "out" / LOCK
    lock.write_text(json.dumps({**json.loads(lock.read_text()), "run_id": "intruder"}))
    time.sleep(0.6)
    with pytest.raises(PipelineError, match="lost the lock of .* to another run"):
        guard.commit({"run_id": "r1"})
    guard.close()
    assert json.loads(lock.read_text())["run_id"] == "intruder"  # not ours to delete


def test_the_s3_store_follows_the_jobs_s3a_settings():
    from fruit_pipeline.config import build_config
    from fruit_pipeline.stages.output_guard import _store

    cfg = build_config(None, {"input": "s3a://b/in", "output": "s3a://b/out", "spark": {"conf": {
        "spark.hadoop.fs.s3a.endpoint": "seaweedfs:8333", "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.path.style.access": "true", "spark.hadoop.fs.s3a.endpoint.region": "eu-west-3"}}})
    store = _store(cfg, {"AWS_ENDPOINT_URL": "http://other:1"})
    assert store.client.meta.endpoint_url == "http://seaweedfs:8333"
    assert store.client.meta.region_name == "eu-west-3" and (store.bucket, store.prefix) == ("b", "out")
    plain = _store(build_config(None, {"input": "/in", "output": "s3://b/o/"}), {"AWS_ENDPOINT_URL": "http://e:2",
                                                                                    "AWS_REGION": "us-east-2"})
    assert plain.client.meta.endpoint_url == "http://e:2" and plain.prefix == "o"
