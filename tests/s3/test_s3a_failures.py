"""`run` against real SeaweedFS: wrong secret, missing bucket, missing prefix -> one clear line, non-zero exit."""

from pathlib import Path

import pytest

from fruit_pipeline.cloud.s3_upload import upload
from fruit_pipeline.stages.s3_conf import locked_jars

ERROR = "fruit-pipeline: error:"


@pytest.fixture(scope="module")
def s3_bank(s3_server, small_bank: Path) -> str:
    """The small bank uploaded once to s3a://failures/bank."""
    from tests.conftest import require

    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "make jars")
    s3_server.client().create_bucket(Bucket="failures")
    upload(small_bank, "s3a://failures/bank", client=s3_server.client())
    return "s3a://failures/bank"


def _run(s3_server, tmp_path: Path, src: str, dest: str, secret: str | None = None):
    from tests.conftest import run_cli

    toml = tmp_path / "s3.toml"
    toml.write_text("[s3]\npath_style = true\n")
    return run_cli("run", "--input", src, "--output", dest, "--master", "local[1]", "--no-reduction",
                   "--no-metrics", "--config", str(toml), env=s3_server.env(secret))


def _error_line(result) -> str:
    """The single error line; nothing else in the output looks like an error or a stack trace."""
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith(ERROR)]
    assert len(lines) == 1, result.stderr[-3000:]
    assert "\tat " not in result.stderr and "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[0]


def test_wrong_secret_is_one_line_without_the_secret(s3_server, s3_bank: str, tmp_path: Path):
    wrong = "WrongSecret-" + s3_server.secret_key[::-1]
    result = _run(s3_server, tmp_path, s3_bank, "s3a://failures/denied", secret=wrong)
    line = _error_line(result)
    assert "access denied by S3 bucket failures" in line and "403" in line
    everything = result.stdout + result.stderr
    for secret in (wrong, s3_server.secret_key):
        assert secret not in everything
    client = s3_server.client()
    assert client.list_objects_v2(Bucket="failures", Prefix="denied").get("KeyCount", 0) == 0


def test_missing_bucket(s3_server, s3_bank: str, tmp_path: Path):
    line = _error_line(_run(s3_server, tmp_path, "s3a://no-such-bucket/bank", "s3a://failures/out-nobucket"))
    assert line == f"{ERROR} S3 bucket no-such-bucket does not exist (NoSuchBucket) for s3a://no-such-bucket/bank"


def test_missing_prefix(s3_server, s3_bank: str, tmp_path: Path):
    line = _error_line(_run(s3_server, tmp_path, "s3a://failures/no-such-prefix", "s3a://failures/out-noprefix"))
    assert line == f"{ERROR} input not found: s3a://failures/no-such-prefix"
