"""image/emr/Dockerfile follows AWS's custom-image considerations (it cannot be built here: no registry)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "image" / "emr" / "Dockerfile"
# Mounted over by EMR on EKS at run time (AWS, "Considerations for customizing images"), plus Spark's config files.
MOUNTED = ("/var/log/fluentd", "/var/log/spark/user", "/var/log/spark/apps", "/mnt", "/tmp", "/home/hadoop",
           "/etc/spark/conf", "/usr/lib/spark/conf")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_base_is_the_emr_spark_image_as_a_build_arg():
    steps = _instructions()
    assert steps[0] == ("ARG", "EMR_BASE=public.ecr.aws/emr-on-eks/spark/emr-spark-8.0.0:latest")
    assert [s for s in steps if s[0] == "FROM"] == [("FROM", "${EMR_BASE}")]


def test_root_only_to_install_then_hadoop():
    steps = _instructions()
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users == ["root", "hadoop:hadoop"]
    assert steps[-1] == ("USER", "hadoop:hadoop")
    first_change = next(i for i, (k, _) in enumerate(steps) if k in ("RUN", "COPY", "ADD"))
    assert steps.index(("USER", "root")) < first_change


def test_nothing_goes_where_emr_mounts():
    for keyword, args in _instructions():
        if keyword in ("COPY", "ADD"):
            target = args.split()[-1]
            assert not target.startswith(MOUNTED), f"{keyword} {args}"
        if keyword == "RUN":
            for path in MOUNTED:
                assert not re.search(re.escape(path) + r"(/|\s|$)", args), f"RUN touches {path}: {args}"


def test_project_installed_without_pypi_pyspark_and_opencv_checked():
    runs = " ".join(args for keyword, args in _instructions() if keyword == "RUN")
    assert "--no-deps /opt/fruit-pipeline/src" in runs
    assert "-r /opt/fruit-pipeline/requirements.txt" in runs
    assert "import cv2, fruit_pipeline" in runs  # the build fails if OpenCV does not import in EMR's Python
