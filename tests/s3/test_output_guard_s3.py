"""The output contract on a real S3 endpoint (SeaweedFS): the conditional-PUT lock and the commit (no Spark)."""

import json

import pytest

from infra.claims import claim_concurrently
from fruit_pipeline.config import build_config
from fruit_pipeline.errors import UsageError
from fruit_pipeline.stages.output_guard import OutputGuard

pytestmark = pytest.mark.s3


@pytest.fixture
def s3(s3_server, monkeypatch):
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    client = s3_server.client()
    client.create_bucket(Bucket="guard")
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="guard"):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket="guard", Key=obj["Key"])
    client.delete_bucket(Bucket="guard")


def _cfg(output: str):
    return build_config(None, {"input": "s3a://guard/bank", "output": output, "s3": {"path_style": True}})


def _keys(client, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket="guard", Prefix=prefix).get("Contents", []))


def test_exactly_one_concurrent_writer_on_s3(s3, monkeypatch):
    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "4")  # losers are refused once they see a renewal
    results = claim_concurrently(_cfg("s3a://guard/out"), 6)
    (winner,) = [r for r in results if isinstance(r, OutputGuard)]
    assert len(results) == 6 and all("delete s3a://guard/out/.fruit-pipeline/lock" in r
                                     for r in results if isinstance(r, str))
    assert json.loads(s3.get_object(Bucket="guard", Key="out/.fruit-pipeline/lock")["Body"].read())["run_id"] == \
        winner.run_id
    winner.close()
    assert _keys(s3, "out/") == []


def test_commit_on_s3_replaces_only_our_objects(s3):
    s3.put_object(Bucket="guard", Key="out/notes.txt", Body=b"mine")
    with pytest.raises(UsageError, match=r"not written by fruit-pipeline \(notes.txt\)"):
        OutputGuard.claim(_cfg("s3a://guard/out"), "r0")
    for run_id in ("r1", "r2"):
        guard = OutputGuard.claim(_cfg("s3a://guard/out"), run_id, overwrite=True)
        s3.put_object(Bucket="guard", Key=f"out/.fruit-pipeline/staging/{run_id}/features/split=Test/{run_id}.parquet",
                      Body=run_id.encode())
        guard.commit({"run_id": run_id})
        guard.close()
    assert _keys(s3, "out/") == ["out/.fruit-pipeline/files.json", "out/.fruit-pipeline/runs/r1.json",
                                 "out/.fruit-pipeline/runs/r2.json", "out/features/split=Test/r2.parquet",
                                 "out/manifest.json", "out/notes.txt"]  # the run log keeps one entry per run
    manifest = json.loads(s3.get_object(Bucket="guard", Key="out/manifest.json")["Body"].read())
    assert manifest == {"run_id": "r2", "files": ["features/split=Test/r2.parquet"]}


def test_an_expired_lease_on_s3_is_taken_over_exactly_once(s3, monkeypatch):
    """A driver killed with its lock on S3 (another host): the next runs wait for the lease to expire; one wins."""
    monkeypatch.setenv("FRUIT_PIPELINE_LOCK_LEASE_S", "2")
    dead = {"run_id": "killed", "host": "gone-pod", "pid": 1, "started_at": "x", "renewed_at": 0, "lease_s": 2.0}
    s3.put_object(Bucket="guard", Key="out/.fruit-pipeline/lock", Body=json.dumps(dead).encode())
    results = claim_concurrently(_cfg("s3a://guard/out"), 4, start_together=False)
    (winner,) = [r for r in results if isinstance(r, OutputGuard)]
    assert len(results) == 4
    assert json.loads(s3.get_object(Bucket="guard", Key="out/.fruit-pipeline/lock")["Body"].read())["run_id"] == \
        winner.run_id
    winner.close()
