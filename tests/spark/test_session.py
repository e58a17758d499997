"""The local session's JVM runs with the settings the local profile chose, and a user's JVM options add to them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.spark

PROBE = """
import json
from fruit_pipeline.config import PipelineConfig, SparkConfig
from fruit_pipeline.stages.session import build_session
cfg = PipelineConfig(spark=SparkConfig(master="local[1]", conf={"spark.driver.extraJavaOptions": "-Dfruit.probe=yes"}))
jvm = build_session(cfg).sparkContext._jvm
print(json.dumps({"gc": sorted(b.getName() for b in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()),
                  "probe": jvm.java.lang.System.getProperty("fruit.probe"),
                  "log4j": jvm.java.lang.System.getProperty("log4j2.configurationFile")}))
"""


def test_local_jvm_uses_the_throughput_collector_and_our_log4j(spark):
    jvm = spark.sparkContext._jvm
    collectors = {bean.getName() for bean in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()}
    assert collectors == {"PS Scavenge", "PS MarkSweep"}, collectors  # -XX:+UseParallelGC, not G1
    assert jvm.java.lang.System.getProperty("log4j2.configurationFile").endswith("resources/log4j2.properties")


def test_user_java_options_are_added_to_the_profile_ones_not_instead():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["probe"] == "yes"
    assert seen["gc"] == ["PS MarkSweep", "PS Scavenge"]
    assert seen["log4j"].endswith("resources/log4j2.properties")
