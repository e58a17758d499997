"""Bad usage exits 2 with one line and no traceback (no Spark is started)."""

import pytest

from conftest import run_cli


@pytest.mark.parametrize("args,needle", [
    (["run", "--input", "/nonexistent/bank", "--output", "/tmp/x"], "input not found: /nonexistent/bank"),
    (["run", "--input", ".", "--output", "/tmp/x", "--config", "/nonexistent.toml"], "config file not found"),
    (["run", "--input", ".", "--output", "/tmp/x", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["run", "--output", "/tmp/x"], "no input given: --input or `input` in the --config file"),
    (["sample", "--out", "/tmp/x", "--per-class", "0"], "--per-class must be >= 1"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_bad_usage(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "run" in proc.stdout and "sample" in proc.stdout
