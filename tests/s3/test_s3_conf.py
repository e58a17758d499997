"""Pure tests of the S3A settings (no Spark)."""

from pathlib import Path

from fruit_pipeline.config import build_config
from fruit_pipeline.stages.s3_conf import COMMIT_PROTOCOL, committer_conf, endpoint, locked_jars, s3_conf


def test_endpoint_precedence():
    cfg = build_config(None, {})
    assert endpoint(cfg, {"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_S3": "http://b"}) == "http://b"
    assert endpoint(cfg, {"AWS_ENDPOINT_URL": "http://a"}) == "http://a"
    cfg = build_config(None, {"s3": {"endpoint": "http://c"}})
    assert endpoint(cfg, {"AWS_ENDPOINT_URL_S3": "http://b"}) == "http://c"


def test_local_profile_settings():
    cfg = build_config(None, {"s3": {"path_style": True, "region": "eu-west-1"}})
    conf = s3_conf(cfg, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"})
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert conf["spark.hadoop.fs.s3a.committer.name"] == "magic"
    assert not any("secret" in k.lower() or "access.key" in k.lower() for k in conf)


def test_emr_profile_adds_nothing():
    cfg = build_config(None, {"spark": {"profile": "emr"}})
    assert s3_conf(cfg, {"AWS_ENDPOINT_URL": "http://x"}) == {}


def test_lock_names_hadoop_aws_matching_pyspark():
    names = [p.name for p in locked_jars()]
    assert names[0] == "hadoop-aws-3.4.1.jar"
    assert {"s3-2.24.8.jar", "s3-transfer-manager-2.24.8.jar", "sts-2.24.8.jar"} <= set(names)
    assert not any(n.startswith("bundle-") for n in names)


def test_local_s3a_jars_only_for_s3a_uris_delta_jars_always():
    plain = build_config(None, {"input": "/data/bank", "output": "/out"})
    assert s3_conf(plain, {"FRUIT_PIPELINE_JARS_DIR": "/j"})["spark.jars"].split(",") == \
        ["/j/delta-spark_2.13-4.0.1.jar", "/j/delta-storage-4.0.1.jar"]
    remote = build_config(None, {"input": "s3a://b/bank", "output": "/out"})
    assert s3_conf(remote, {"FRUIT_PIPELINE_JARS_DIR": "/j"})["spark.jars"].split(",") == \
        [str(p) for p in locked_jars(directory=Path("/j"))]
    assert s3_conf(remote, {"SPARK_HOME": "/opt/spark"})["spark.jars"]  # never silently left out


def test_magic_committer_bound_to_spark_sql_only_for_s3a_outputs():
    remote = committer_conf("magic", "s3a://b/out")
    assert remote["spark.hadoop.fs.s3a.committer.name"] == "magic"
    assert remote["spark.sql.sources.commitProtocolClass"] == COMMIT_PROTOCOL
    assert "spark.sql.sources.commitProtocolClass" not in committer_conf("magic", "/local/out")
    assert committer_conf("file", "s3a://b/out") == {}


def test_lock_has_the_commit_protocol_jar():
    assert any(p.name.startswith("spark-hadoop-cloud_2.13-4.0.") for p in locked_jars())
