"""`s3a://` from a non-editable install (a built wheel in a fresh venv, run outside the checkout): the S3A jars
are fetched on first use into the user's cache, sha256-checked, and the run succeeds.

Cheap on purpose: the wheel is installed with --no-deps, the dependencies come from this interpreter's
site-packages through a .pth file, and the Maven repository is a file:// mirror of `make jars` (no network)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from fruit_pipeline.cloud.s3_upload import upload
from fruit_pipeline.jars_lock import read_lock
from fruit_pipeline.sample_bank import BankSpec, write_bank
from fruit_pipeline.stages.s3_conf import JARS_DIR, spark_has_s3a

pytestmark = [pytest.mark.s3, pytest.mark.spark]
ROOT = Path(__file__).resolve().parents[2]


def _wheel(tmp: Path) -> Path:
    """Build the project's wheel from a copy of its sources (no build output in the work tree)."""
    src = tmp / "src"
    shutil.copytree(ROOT / "job", src / "job", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("fruit_pipeline-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # dependencies, not the job
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def _maven_mirror(tmp: Path) -> Path:
    repo = tmp / "maven"
    for jar in read_lock():
        (repo / jar.maven_path).parent.mkdir(parents=True, exist_ok=True)
        (repo / jar.maven_path).symlink_to(JARS_DIR / jar.file_name)
    return repo


def test_s3a_run_from_an_installed_wheel_fetches_the_jars(s3_server, tmp_path):
    from tests.conftest import require

    require(all((JARS_DIR / j.file_name).is_file() for j in read_lock()), "hadoop-aws jars", "make jars")
    if spark_has_s3a({}):
        pytest.skip("this Spark bakes the S3A jars in: nothing to fetch")
    venv = _fresh_venv(tmp_path, _wheel(tmp_path))
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import fruit_pipeline; print(fruit_pipeline.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    assert where.startswith(str(venv)), where  # the wheel's copy, not the checkout

    bank = tmp_path / "bank"
    write_bank(BankSpec(bank, classes=2, per_class=4, test_fraction=0.25, seed=5), workers=1)
    client = s3_server.client()
    client.create_bucket(Bucket="wheel")
    upload(bank, "s3a://wheel/bank", client=client)
    (tmp_path / "job.toml").write_text('input = "s3a://wheel/bank"\noutput = "s3a://wheel/out"\n'
                                       "[s3]\npath_style = true\n")
    cache = tmp_path / "cache"
    env = {**s3_server.env(), "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(cache),
           "FRUIT_PIPELINE_MAVEN_REPO": _maven_mirror(tmp_path).as_uri()}
    env.update({name: os.environ[name] for name in ("JAVA_HOME", "SSL_CERT_FILE") if name in os.environ})
    done = subprocess.run([str(venv / "bin" / "fruit-pipeline"), "run", "--config", "job.toml", "--master", "local[2]",
                           "--no-reduction", "--no-metrics"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    fetched = sorted(p.name for p in (cache / "fruit-pipeline" / "jars").iterdir())
    assert fetched == sorted(j.file_name for j in read_lock())
    manifest = json.loads(client.get_object(Bucket="wheel", Key="out/manifest.json")["Body"].read())
    assert manifest["counts"] == {"input_files": 8, "features_rows": 8, "error_rows": 0}
