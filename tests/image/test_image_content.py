"""What the built image contains: non-root by default, no build CA, no credentials, no compilers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import ssl
from pathlib import Path

import pytest

# The first test to use `pipeline_image` builds the image (from scratch on a clean engine: minutes).
pytestmark = [pytest.mark.docker, pytest.mark.timeout(2400)]

HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s+(.*?)\s+-----END CERTIFICATE-----", re.S)
SECRET_ENV = re.compile(r"(AWS_|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PIP_CERT|SSL_CERT|_KEY\b|API_KEY)", re.I)


def _sh(docker_engine, image: str, script: str, user: str | None = None):
    argv = ["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh"]
    if user:
        argv += ["--user", user]
    return docker_engine.run(*argv, image, "-c", script, check=False, timeout=300)


def _fingerprints(pem_text: str) -> dict[str, str]:
    """sha256 fingerprint (hex) -> a middle base64 line (distinctive, for grep) of each PEM certificate."""
    out = {}
    for body in PEM.findall(pem_text):
        der = ssl.PEM_cert_to_DER_cert(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        lines = body.split()
        out[hashlib.sha256(der).hexdigest()] = lines[len(lines) // 2]
    return out


def test_runs_as_185_by_default(docker_engine, pipeline_image):
    config = json.loads(docker_engine.run("image", "inspect", "-f", "{{json .Config}}", pipeline_image).stdout)
    assert config["User"].split(":")[0] == "185"
    done = docker_engine.run("run", "--rm", "--network", "none", pipeline_image, "id", "-u", check=False)
    assert done.returncode == 0 and done.stdout.strip() == "185", done.stderr
    who = _sh(docker_engine, pipeline_image, "id -un; id -gn; echo $HOME; test -w $HOME && echo writable")
    assert who.stdout.split() == ["spark", "spark", "/home/spark", "writable"], who.stderr


def test_no_compilers_or_build_tools(docker_engine, pipeline_image):
    done = _sh(docker_engine, pipeline_image,
               "for c in gcc cc c++ g++ cpp clang ld as make pip pip3; do command -v $c; done;"
               "dpkg-query -W -f '${Package}\\n' | grep -Ex '(gcc|g\\+\\+|cpp)(-[0-9]+)?|clang.*|binutils|make|"
               "libc6-dev|build-essential|python3(\\.[0-9]+)?-dev|python3-pip' || true")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_no_credentials_in_config_or_files(docker_engine, pipeline_image):
    config = json.loads(docker_engine.run("image", "inspect", "-f", "{{json .Config}}", pipeline_image).stdout)
    names = [entry.split("=", 1)[0] for entry in config["Env"]]
    assert not [n for n in names if SECRET_ENV.search(n)], names
    history = docker_engine.run("history", "--no-trunc", "--format", "{{.CreatedBy}}", pipeline_image).stdout
    assert "BEGIN CERTIFICATE" not in history and "PRIVATE KEY" not in history
    done = _sh(docker_engine, pipeline_image,
               "find / -xdev \\( -name .aws -o -name .netrc -o -name .git-credentials -o -name .pypirc "
               "-o -name .docker -o -name pip.conf -o -name '*.pem' -path '/run/*' -o -name 'id_rsa*' \\) -print "
               "2>/dev/null; ls -A /run/secrets 2>/dev/null; ls -A /root/.cache 2>/dev/null; true")
    assert done.stdout.strip() == "", done.stdout


def test_no_build_ca_in_the_image(docker_engine, pipeline_image):
    """The build secret (the host CA bundle) was mounted, never copied: no trace of its extra (proxy) CAs."""
    assert _sh(docker_engine, pipeline_image, "test ! -e /run/secrets/cabundle").returncode == 0
    image_bundle = _sh(docker_engine, pipeline_image, "cat /etc/ssl/certs/ca-certificates.crt").stdout
    image_certs = _fingerprints(image_bundle)
    assert len(image_certs) > 50, "the image should trust Debian's CA store"
    host_extra = {fp: line for fp, line in _fingerprints(HOST_CA.read_text()).items() if fp not in image_certs} \
        if HOST_CA.is_file() else {}
    java = _sh(docker_engine, pipeline_image, "keytool -list -cacerts -storepass changeit 2>/dev/null")
    assert java.returncode == 0 and "SHA-256" in java.stdout.replace("SHA256", "SHA-256"), java.stderr
    java_fps = {m.replace(":", "").lower() for m in re.findall(r"([0-9A-F]{2}(?::[0-9A-F]{2}){31})", java.stdout)}
    assert len(java_fps) > 50
    for fingerprint, first_line in host_extra.items():
        assert fingerprint not in java_fps, f"build CA {fingerprint[:16]} is in Java's cacerts"
        found = _sh(docker_engine, pipeline_image,
                    f"grep -rlF '{first_line}' /etc /opt /home /usr/local /usr/share/ca-certificates /var /tmp "
                    "2>/dev/null | head -3")
        assert found.stdout.strip() == "", f"build CA {fingerprint[:16]} found in {found.stdout.split()}"


def test_spark_layout(docker_engine, pipeline_image):
    done = _sh(docker_engine, pipeline_image,
               "echo $SPARK_HOME $JAVA_HOME $PYSPARK_PYTHON; ls $SPARK_HOME/jars | grep -c '^hadoop-aws-3.4.1.jar$';"
               "ls $SPARK_HOME/jars | grep -c '^spark-kubernetes_'; java -version 2>&1 | head -1; "
               "python -c 'import cv2, pyarrow, pandas, boto3, matplotlib, fruit_pipeline; print(cv2.__version__)'")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "/opt/spark /opt/java /opt/venv/bin/python"
    assert lines[1:3] == ["1", "1"]
    assert '"17.' in lines[3]


def test_locked_s3a_jars_are_baked_in(docker_engine, pipeline_image):
    from fruit_pipeline.jars_lock import read_lock

    locked = read_lock()
    done = _sh(docker_engine, pipeline_image, "cd $SPARK_HOME/jars && sha256sum " +
               " ".join(jar.file_name for jar in locked))
    assert done.returncode == 0, done.stderr
    got = dict(reversed(line.split()) for line in done.stdout.splitlines())
    assert got == {jar.file_name: jar.sha256 for jar in locked}


def test_fingerprints_are_der_sha256():
    """The CA test's helper hashes the DER bytes of each certificate (guards it against a silent no-op)."""
    der = b"\x30\x03\x02\x01\x01"
    pem = "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(der).decode() + "\n-----END CERTIFICATE-----\n"
    assert list(_fingerprints(pem)) == [hashlib.sha256(der).hexdigest()]
