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


def test_every_option_has_help_with_its_default():
    """`--help` of run, transform, sample and upload: each option explains itself and states its default."""
    import argparse

    from fruit_pipeline.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    no_default = {"--input", "--output", "--config", "--models", "--source", "--dest", "--out", "--help", "--version"}
    for name in ("run", "transform", "sample", "upload"):
        for action in subs[name]._actions:
            flag = max(action.option_strings, key=len)
            assert action.help, f"{name} {flag} has no help"
            if flag not in no_default:
                assert "default" in action.help, f"{name} {flag}: {action.help}"
    assert "TOML" in subs["run"].description and "k8s/emr/job.toml" in subs["run"].description
