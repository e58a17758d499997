"""The local session's JVM runs with the settings the local profile chose."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark


def test_local_jvm_uses_the_throughput_collector_and_our_log4j(spark):
    jvm = spark.sparkContext._jvm
    collectors = {bean.getName() for bean in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()}
    assert collectors == {"PS Scavenge", "PS MarkSweep"}, collectors  # -XX:+UseParallelGC, not G1
    assert jvm.java.lang.System.getProperty("log4j2.configurationFile").endswith("resources/log4j2.properties")
