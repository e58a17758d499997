"""`upload` against a real SeaweedFS: everything lands, a rerun sends nothing, a partial upload resumes."""

from pathlib import Path

from fruit_pipeline.cloud.s3_upload import upload


def _keys(client, bucket: str, prefix: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_upload_is_idempotent_and_resumes(s3_server, small_bank: Path):
    client = s3_server.client()
    client.create_bucket(Bucket="upl")
    files = sorted(p for p in small_bank.rglob("*") if p.is_file())
    assert upload(small_bank, "s3a://upl/bank", client=client) == (len(files), 0)
    expected = {"bank/" + p.relative_to(small_bank).as_posix() for p in files}
    assert _keys(client, "upl", "bank/") == expected
    body = client.get_object(Bucket="upl", Key=sorted(expected)[0])["Body"].read()
    assert body == files[0].read_bytes()
    assert upload(small_bank, "s3://upl/bank", client=client) == (0, len(files))
    # simulate an interrupted upload: drop 3 objects, corrupt one; only those 4 are sent again
    for key in sorted(expected)[:3]:
        client.delete_object(Bucket="upl", Key=key)
    client.put_object(Bucket="upl", Key=sorted(expected)[3], Body=b"partial")
    assert upload(small_bank, "s3://upl/bank", client=client) == (4, len(files) - 4)


def test_cli_upload_twice_sends_nothing_second_time(s3_server, small_bank: Path):
    from tests.conftest import run_cli

    s3_server.client().create_bucket(Bucket="cliupl")
    n = sum(1 for p in small_bank.rglob("*") if p.is_file())
    first = run_cli("upload", "--source", str(small_bank), "--dest", "s3://cliupl/b", env=s3_server.env())
    assert first.returncode == 0, first.stderr
    assert f"uploaded {n}, skipped 0" in first.stdout
    second = run_cli("upload", "--source", str(small_bank), "--dest", "s3a://cliupl/b", env=s3_server.env())
    assert f"uploaded 0, skipped {n}" in second.stdout


def test_junk_is_left_out_and_counted(s3_server, tmp_path: Path):
    from odd_bank import write_odd_bank
    from tests.conftest import run_cli

    from fruit_pipeline.bank_files import APPLEDOUBLE, CHECKPOINT, DANGLING, MACOSX, SYSTEM_FILE

    bank = write_odd_bank(tmp_path / "bank")
    junk = {rel for rel, reason in bank.skipped.items() if reason in (APPLEDOUBLE, MACOSX, CHECKPOINT, SYSTEM_FILE,
                                                                      DANGLING)}
    s3_server.client().create_bucket(Bucket="junk")
    done = run_cli("upload", "--source", str(bank.root), "--dest", "s3://junk/b", env=s3_server.env())
    assert done.returncode == 0, done.stderr
    sent = {p.relative_to(bank.root).as_posix() for p in bank.root.rglob("*")
            if p.is_file() and p.relative_to(bank.root).as_posix() not in junk}
    assert _keys(s3_server.client(), "junk", "b/") == {f"b/{rel}" for rel in sent}
    assert sent == set(bank.images) | {"Training/_Unsorted/i.jpg", "Training/Kiwi/notes.txt"}
    assert done.stdout.strip() == (
        f"uploaded {len(sent)}, skipped 0 (already present) to s3://junk/b; left out 6 junk file(s): "
        f"1 {CHECKPOINT}, 1 {DANGLING}, 1 {APPLEDOUBLE}, 1 {MACOSX}, 2 {SYSTEM_FILE}")
