"""Outputs that cannot or must not be written are refused before Spark starts: one line, exit 2, nothing touched."""

import os
from pathlib import Path

import pytest

from conftest import run_cli
from fruit_pipeline.config import PipelineConfig
from fruit_pipeline.stages.output_guard import OutputGuard


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    (tmp_path / "bank" / "Training" / "A").mkdir(parents=True)
    return tmp_path / "bank"


def _refused(*args: str, needle: str) -> None:
    proc = run_cli(*args, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-3000:]
    assert needle in lines[0] and lines[0].startswith("fruit-pipeline: error: "), lines[0]


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_output_inside_the_input(bank):
    _refused("run", "--input", str(bank), "--output", str(bank / "out"), needle="overlap: a run would read its own")
    _refused("run", "--input", str(bank / "Training"), "--output", str(bank), needle="overlap")
    assert not (bank / "out").exists()


def test_output_that_is_a_file(bank, tmp_path):
    (tmp_path / "f").write_text("x")
    _refused("run", "--input", str(bank), "--output", str(tmp_path / "f"), needle="is a file, not a folder")
    _refused("run", "--input", str(bank), "--output", str(tmp_path / "f" / "x"), needle="is a file, not a folder")


def test_a_folder_we_did_not_create_is_kept_as_it_is(bank, tmp_path):
    out = tmp_path / "out"
    (out / "features").mkdir(parents=True)
    (out / "features" / "README-mine.txt").write_text("mine")
    (out / "report").mkdir()
    (out / "report" / "custom.html").write_text("<p>mine</p>")
    before = _tree(out)
    _refused("run", "--input", str(bank), "--output", str(out),
             needle="is not empty and was not written by fruit-pipeline (features/README-mine.txt, report/custom.html)")
    _refused("run", "--input", str(bank), "--output", str(out), "--overwrite",
             needle="holds files fruit-pipeline did not write where it writes")
    assert _tree(out) == before and sorted(os.listdir(out)) == ["features", "report"]


def test_missing_models_folder(bank, tmp_path):
    _refused("transform", "--models", str(tmp_path / "nope"), "--input", str(bank), "--output", str(tmp_path / "o"),
             needle=f"models not found: {tmp_path / 'nope'}")


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(bank, tmp_path, monkeypatch):
    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "6")  # renewed every 1.5 s: the second run sees it alive
    guard = OutputGuard.claim(PipelineConfig(input=str(bank), output=str(tmp_path / "out")), "first-run")
    try:
        _refused("run", "--input", str(bank), "--output", str(tmp_path / "out"),
                 needle=f"another fruit-pipeline run (run first-run, host {os.uname().nodename}, pid {os.getpid()}")
    finally:
        guard.close()


def test_input_and_output_from_the_config_file_only(bank, tmp_path):
    toml = tmp_path / "job.toml"
    toml.write_text(f'input = "{tmp_path / "missing"}"\noutput = "{tmp_path / "out"}"\n')
    _refused("run", "--config", str(toml), needle=f"input not found: {tmp_path / 'missing'}")
    toml.write_text(f'input = "{bank}"\noutput = "{bank / "out"}"\n')
    _refused("run", "--config", str(toml), needle="overlap")
    toml.write_text(f'output = "{tmp_path / "out"}"\n')
    _refused("run", "--config", str(toml), needle="no input given: --input or `input` in the --config file")


def test_an_output_that_cannot_be_created(bank):
    """/sys refuses new folders even to root (EPERM): the run stops before Spark, not after the extraction."""
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux sysfs")
    _refused("run", "--input", str(bank), "--output", "/sys/fruit-pipeline-out",
             needle="cannot write the output /sys/fruit-pipeline-out: permission denied")


def test_watch_without_append_is_refused_before_spark(bank, tmp_path):
    _refused("run", "--input", str(bank), "--output", str(tmp_path / "out"), "--watch", "30",
             needle="--watch (increment.watch_s) needs --mode append")
    assert not (tmp_path / "out").exists()
