"""`run` reading and writing s3a:// on a real SeaweedFS equals the local-disk run of the same bank."""

import json
from pathlib import Path

import pandas as pd

from fruit_pipeline.cloud.s3_upload import upload
from fruit_pipeline.stages.s3_conf import locked_jars


def _canonical(folder: Path) -> list[tuple]:
    """Rows of a features dataset with location columns reduced to the file name, sorted."""
    df = pd.read_parquet(folder).drop(columns=["source_mtime"])  # disk and S3 clocks differ
    for col in [c for c in df.columns if "path" in c.lower() or "uri" in c.lower()]:
        df[col] = df[col].astype(str).str.rsplit("/", n=1).str[-1]
    rows = [tuple(repr(v.tolist() if hasattr(v, "tolist") else v) for v in row)
            for row in df[sorted(df.columns)].itertuples(index=False)]
    return sorted(rows)


def _download(client, bucket: str, prefix: str, dest: Path) -> Path:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix):]
            if rel.endswith(".parquet") and "__magic" not in rel:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, obj["Key"], str(dest / rel))
    return dest


def test_s3a_run_matches_local_run(s3_server, small_bank: Path, tmp_path: Path):
    from tests.conftest import require, run_cli

    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "python image/fetch_jars.py .cache/jars")
    s3_server.client().create_bucket(Bucket="runs")
    upload(small_bank, "s3a://runs/bank", client=s3_server.client())
    env = s3_server.env()
    toml = tmp_path / "s3.toml"
    toml.write_text("[s3]\npath_style = true\n")
    # --no-event-log: the bank's scan is then the first to create the S3A filesystem (the event log's directory
    # would otherwise create it earlier, from the session's configuration), as on every standalone or Kubernetes
    # executor; the scan's local-only reader options once leaked into it and broke S3A's write buffers.
    remote = run_cli("run", "--input", "s3a://runs/bank", "--output", "s3a://runs/out", "--master", "local[2]",
                     "--no-reduction", "--no-metrics", "--no-event-log", "--config", str(toml), env=env)
    assert remote.returncode == 0, remote.stderr[-3000:]
    local = run_cli("run", "--input", str(small_bank), "--output", str(tmp_path / "out"), "--master", "local[2]",
                    "--no-reduction", "--no-metrics")
    assert local.returncode == 0, local.stderr[-3000:]
    client = s3_server.client()
    got = _canonical(_download(client, "runs", "out/features/", tmp_path / "remote"))
    want = _canonical(tmp_path / "out" / "features")
    assert len(want) == len(list(p for p in small_bank.rglob("*.jpg")))
    assert got == want
    # a Delta table (Delta commits through its log, not an output committer's _SUCCESS marker)
    log = client.get_object(Bucket="runs", Key="out/features/_delta_log/00000000000000000000.json")["Body"].read()
    actions = [json.loads(line) for line in log.splitlines()]
    assert actions[0]["commitInfo"]["operation"] == "WRITE"
    assert sum("add" in a for a in actions) == len(list((tmp_path / "remote").rglob("*.parquet")))
    manifest = client.get_object(Bucket="runs", Key="out/manifest.json")["Body"].read().decode()
    assert json.loads(manifest)["counts"]["features_rows"] == len(want)
    assert s3_server.secret_key not in manifest + remote.stdout + remote.stderr
