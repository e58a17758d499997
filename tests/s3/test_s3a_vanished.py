"""An object deleted between listing and reading becomes an error row on s3a://, and the run completes."""

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from fruit_pipeline.cloud.s3_upload import upload
from fruit_pipeline.stages.s3_conf import locked_jars

# Runs the job in its own process (fresh JVM with the S3A jars) and deletes one object through the
# `after_listing` callback of pipeline.run, i.e. after the listing and before any content is read.
DRIVER = textwrap.dedent('''
    import json, sys
    import boto3
    from fruit_pipeline import pipeline
    from fruit_pipeline.config import build_config

    bucket, key, src, dest = sys.argv[1:5]
    cfg = build_config(None, {"input": src, "output": dest, "s3": {"path_style": True},
                              "reduction": {"enabled": False}, "metrics": {"enabled": False},
                              "spark": {"master": "local[1]"}})
    deleted = []

    def delete_one():
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
        deleted.append(key)

    manifest = pipeline.run(cfg, after_listing=delete_one)
    print(json.dumps({"counts": manifest["counts"], "deleted": deleted}))
''')


def test_object_deleted_after_listing_is_an_error_row(s3_server, small_bank: Path, tmp_path: Path):
    from tests.conftest import require

    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "make jars")
    client = s3_server.client()
    client.create_bucket(Bucket="vanish")
    upload(small_bank, "s3a://vanish/bank", client=client)
    victim = sorted(p.relative_to(small_bank).as_posix() for p in small_bank.rglob("*.jpg"))[0]
    key = f"bank/{victim}"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run([sys.executable, str(driver), "vanish", key, "s3a://vanish/bank", "s3a://vanish/out"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **s3_server.env()})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["deleted"] == [key]
    counts = report["counts"]
    n_files = len(list(small_bank.rglob("*.jpg")))
    assert counts == {"input_files": n_files, "features_rows": n_files - 1, "error_rows": 1}
    errors = _read_parquet(client, "vanish", "out/errors/")
    assert len(errors) == 1
    row = errors.iloc[0]
    assert row["path"].endswith(key) and row["stage"] == "read"
    assert "disappeared between listing and reading" in row["reason"]


def _read_parquet(client, bucket: str, prefix: str) -> pd.DataFrame:
    """All Parquet parts under a prefix, concatenated."""
    parts = [obj["Key"] for obj in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
             if obj["Key"].endswith(".parquet")]
    return pd.concat(pd.read_parquet(io.BytesIO(client.get_object(Bucket=bucket, Key=k)["Body"].read()))
                     for k in parts)
