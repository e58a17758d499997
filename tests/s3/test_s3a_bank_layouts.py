"""The odd bank on s3a:// (SeaweedFS): literal input path, odd keys, exact labels, every object accounted for."""

import io
import json
from pathlib import Path

import pandas as pd

from fruit_pipeline.bank_files import HIDDEN
from fruit_pipeline.stages.s3_conf import locked_jars
from odd_bank import DIMENSIONS, write_odd_bank
from torture import jpeg, textured


def _put_tree(client, bucket: str, root: Path, prefix: str) -> None:
    """Every file under root, junk included, as objects (unlike `upload`, which skips junk)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        client.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(root).as_posix()}", Body=path.read_bytes())


def _parquet(client, bucket: str, prefix: str) -> pd.DataFrame:
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", []) if o["Key"].endswith(".parquet")]
    frames = []
    for key in keys:
        df = pd.read_parquet(io.BytesIO(client.get_object(Bucket=bucket, Key=key)["Body"].read()))
        if "/split=" in key:
            df["split"] = key.split("/split=", 1)[1].split("/", 1)[0]
        frames.append(df)
    return pd.concat(frames) if frames else pd.DataFrame()


def test_odd_bank_on_s3a(s3_server, tmp_path: Path):
    from tests.conftest import require, run_cli

    require(all(p.exists() for p in locked_jars()), "hadoop-aws jars", "make jars")
    client = s3_server.client()
    client.create_bucket(Bucket="odd")
    bank = write_odd_bank(tmp_path / "bank", dangling_link=False)
    _put_tree(client, "odd", bank.root, "banks/odd [v2]")
    client.put_object(Bucket="odd", Key="banks/odd v/Training/Decoy/decoy.jpg", Body=jpeg(textured(7)))
    toml = tmp_path / "s3.toml"
    toml.write_text("[s3]\npath_style = true\n")
    done = run_cli("run", "--input", "s3a://odd/banks/odd [v2]", "--output", "s3a://odd/out", "--master", "local[2]",
                   "--no-reduction", "--no-metrics", "--config", str(toml), env=s3_server.env())
    assert done.returncode == 0, done.stderr[-3000:]
    features = _parquet(client, "odd", "out/features/")
    prefix = "s3a://odd/banks/odd [v2]/"
    got = {p.removeprefix(prefix): (label, split)
           for p, label, split in zip(features["path"], features["label"], features["split"])}
    assert got == bank.images
    dims = {p.removeprefix(prefix): (w, h) for p, w, h in zip(features["path"], features["width"], features["height"])}
    assert dims == {rel: DIMENSIONS.get(rel, (100, 100)) for rel in bank.images}
    assert _parquet(client, "odd", "out/errors/").empty
    manifest = json.loads(client.get_object(Bucket="odd", Key="out/manifest.json")["Body"].read())
    n = len(bank.images)
    assert manifest["counts"] == {"input_files": n + bank.skipped_images, "features_rows": n, "error_rows": 0}
    assert manifest["skipped"]["by_reason"] == bank.by_reason()
    assert manifest["skipped"]["image_files"] == bank.skipped_images == 4
    assert manifest["skipped"]["examples"][HIDDEN] == ["Training/_Unsorted/i.jpg"]
    assert manifest["warnings"] == ["labels differ only by case or surrounding whitespace: 'Kiwi', 'kiwi '"]
