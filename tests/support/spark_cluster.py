"""The test session's one local Spark cluster (orchestration/spark/cluster.py).

It starts in a background thread as soon as a test module asks for `spark_cluster_starting`,
so that the module's other slow set-up (the rulebook's DuckDB run) overlaps its ~30 s start;
`cluster()` then waits for it. Every test that needs the cluster lives in tests/test_spark.py,
so one pytest-xdist worker (`--dist loadfile`) owns it; it is stopped at the end of the session,
or earlier by the test that checks that stopping leaves no JVM.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from orchestration.settings import SparkSettings
from orchestration.spark.cluster import LocalCluster
from orchestration.spark.landing import local_cluster

EXECUTOR_MIB = 576  # the session cluster's executors: REWARDS_SPARK_EXECUTOR_MEMORY=576m

# A lake the session cluster reads by a URI that is no local path: Hadoop's view file system,
# whose mount table (HADOOP_CONF_DIR's core-site.xml, as a real lake's file systems are
# configured) maps viewfs://lake/landing to a local folder, `ClusterStarting.lake_dir`.
LAKE_URI = "viewfs://lake/landing"
CORE_SITE = """<?xml version="1.0"?>
<configuration>
  <property>
    <name>fs.viewfs.mounttable.lake.link./landing</name>
    <value>{target}</value>
  </property>
</configuration>
"""


def java_required() -> None:
    """Skip without `java`, but fail when CI=true: CI must run the Spark tests (.ci/run
    installs Java 17)."""
    if shutil.which("java") is not None:
        return
    message = "no `java` on PATH: Spark needs a JVM (Java 17; .ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class ClusterStarting:
    """A LocalCluster starting in the background."""

    def __init__(self, spark_dir: Path) -> None:
        self.lake_dir = spark_dir / "lake"
        hadoop_conf = spark_dir / "hadoop-conf"
        hadoop_conf.mkdir(parents=True)
        (hadoop_conf / "core-site.xml").write_text(CORE_SITE.format(target=self.lake_dir.as_uri()))
        # sized as a user's REWARDS_SPARK_EXECUTOR_MEMORY would (D97), a little over the default
        self.local = local_cluster(
            SparkSettings(spark_dir, executor_mib=EXECUTOR_MIB),
            environ={**os.environ, "HADOOP_CONF_DIR": str(hadoop_conf)},
        )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spark-cluster")
        self._started: Future = self._pool.submit(self.local.start)
        self.stopped = False

    def cluster(self) -> LocalCluster:
        """The cluster, once it accepts connections (raises what its start raised)."""
        if self.stopped:
            raise RuntimeError("the session's Spark cluster was stopped already")
        self._started.result()
        return self.local

    def stop(self) -> None:
        try:
            self._started.result()  # let a start in progress finish (or fail and clean up)
        except Exception:  # noqa: BLE001 -- its failure was reported where it was awaited
            pass
        finally:
            self.local.stop()
            self._pool.shutdown()
            self.stopped = True


def cmdline_of(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # gone, or a zombie (spark-class's launcher, not yet reaped)
        return []


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def our_jvms(marker: str) -> list[psutil.Process]:
    """Live JVMs whose command line names `marker` (a cluster's folder): whoever started them,
    in this process or another."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] == psutil.STATUS_ZOMBIE or not cmdline:
            continue
        if cmdline[0].endswith("java") and any(marker in arg for arg in cmdline):
            found.append(process)
    return found
