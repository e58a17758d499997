"""`fruit-pipeline history`: the History Server's settings and java command line (no JVM started)."""

from __future__ import annotations


def test_history_server_settings_read_s3_and_emr_s3_uris_through_s3a():
    from fruit_pipeline.config import S3Config
    from fruit_pipeline.observability.history_server import command, settings

    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:8333", "FRUIT_PIPELINE_JARS_DIR": "/jars", "PATH": "/usr/bin:/bin"}
    local = settings("file:///logs", 18080, S3Config(), "local", env, {})
    assert local == {"spark.history.fs.logDirectory": "file:///logs", "spark.history.ui.port": "18080",
                     "spark.history.fs.update.interval": "5s"}
    emr = settings("s3://logs/spark-events", 18081, S3Config(path_style=True), "kubernetes", env, {"k": "v"})
    assert emr["spark.hadoop.fs.s3.impl"] == emr["spark.hadoop.fs.s3a.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert (emr["spark.hadoop.fs.s3a.endpoint"], emr["spark.hadoop.fs.s3a.path.style.access"], emr["k"]) == (
        "http://127.0.0.1:8333", "true", "v")
    assert "spark.jars" not in emr  # the image has the s3a jars in $SPARK_HOME/jars
    argv = command(emr, {**env, "SPARK_HOME": "/opt/spark", "JAVA_HOME": ""})
    assert argv[1:4] == ["-Xmx1g", "-cp", "/opt/spark/conf:/opt/spark/jars/*"]
    assert argv[-1] == "org.apache.spark.deploy.history.HistoryServer"
    assert "-Dspark.history.fs.logDirectory=s3://logs/spark-events" in argv
