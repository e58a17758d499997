"""The S3A jars are fetched on first use from a Maven repository, sha256-checked (a file:// repository: no network)."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from fruit_pipeline.config import build_config
from fruit_pipeline.errors import PipelineError
from fruit_pipeline.jars_lock import LOCK, JarError, fetch_all, read_lock
from fruit_pipeline.stages import s3_conf

ROOT = Path(__file__).resolve().parents[2]


def _repo(tmp_path: Path, jars: dict[str, bytes]) -> tuple[Path, str]:
    """A Maven layout under tmp_path/repo holding `jars` (artifact -> bytes) and a lock naming them."""
    lines = []
    for artifact, data in jars.items():
        folder = tmp_path / "repo" / "org" / "example" / artifact / "1.0"
        folder.mkdir(parents=True)
        (folder / f"{artifact}-1.0.jar").write_bytes(data)
        lines.append(f"org.example:{artifact}:1.0 {hashlib.sha256(data).hexdigest()}")
    lock = tmp_path / "jars.lock"
    lock.write_text("# test lock\n\n" + "\n".join(lines) + "\n")
    return lock, (tmp_path / "repo").as_uri()


def test_fetch_verifies_and_reuses(tmp_path):
    lock, repo = _repo(tmp_path, {"a": b"jar a", "b": b"jar b"})
    got = fetch_all(tmp_path / "dest", lock, repo)
    assert [p.read_bytes() for p in got] == [b"jar a", b"jar b"]
    (tmp_path / "repo" / "org" / "example" / "a" / "1.0" / "a-1.0.jar").write_bytes(b"tampered")
    assert fetch_all(tmp_path / "dest", lock, repo)[0].read_bytes() == b"jar a"  # verified copy kept, not refetched
    (tmp_path / "dest" / "a-1.0.jar").write_bytes(b"broken")
    with pytest.raises(JarError, match="checksum mismatch for .*a-1.0.jar: expected sha256"):
        fetch_all(tmp_path / "dest", lock, repo)
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["a-1.0.jar", "b-1.0.jar"]  # no .part left
    with pytest.raises(JarError, match="cannot download .*/nowhere/org/example/a/1.0/a-1.0.jar"):
        fetch_all(tmp_path / "other", lock, (tmp_path / "nowhere").as_uri())


def test_the_lock_is_shipped_in_the_package():
    assert LOCK.parent.name == "resources" and LOCK.parent.parent.name == "fruit_pipeline"
    names = [j.file_name for j in read_lock()]
    assert names[0] == "hadoop-aws-3.4.1.jar" and len(names) == 34
    assert names[-2:] == ["delta-spark_2.13-4.0.1.jar", "delta-storage-4.0.1.jar"]


def test_image_wrapper_fetches_into_a_folder(tmp_path):
    """`make jars` / the image build: image/fetch_jars.py DIR, with the repository from the environment."""
    jars_dir = s3_conf.JARS_DIR
    if not all((jars_dir / j.file_name).is_file() for j in read_lock()):
        pytest.skip("needs `make jars` (.cache/jars) as the local repository's content")
    repo = tmp_path / "repo"
    for jar in read_lock():
        target = repo / jar.maven_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(jars_dir / jar.file_name)
    done = subprocess.run([sys.executable, str(ROOT / "image" / "fetch_jars.py"), str(tmp_path / "out")],
                          capture_output=True, text=True, env={"FRUIT_PIPELINE_MAVEN_REPO": repo.as_uri()})
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 34 and len(list((tmp_path / "out").iterdir())) == 34


def test_a_run_that_cannot_fetch_the_jars_says_how_to_get_them(tmp_path, monkeypatch):
    cfg = build_config(None, {"input": "s3a://bank/x", "output": str(tmp_path / "out")})
    monkeypatch.setenv("FRUIT_PIPELINE_MAVEN_REPO", (tmp_path / "nowhere").as_uri())
    env = {"FRUIT_PIPELINE_JARS_DIR": str(tmp_path / "jars")}
    if s3_conf.spark_has_s3a(env):
        pytest.skip("this Spark bakes the S3A jars in")
    with pytest.raises(PipelineError, match=r"s3a:// needs the S3A jars .* `python -m fruit_pipeline.jars_lock DIR`"):
        s3_conf.ensure_jars(cfg, env)
    plain = build_config(None, {"input": "/bank", "output": "/out"})  # no s3a: only the Delta Lake jars
    assert [j.artifact for j in s3_conf.run_jars(plain, env)] == ["delta-spark_2.13", "delta-storage"]
    with pytest.raises(PipelineError, match=r"the Delta tables need the Delta Lake jars .*jars_lock DIR` "):
        s3_conf.ensure_jars(plain, env)
    assert s3_conf.user_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/fruit-pipeline/jars")
