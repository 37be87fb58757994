"""Ctrl-C during `rewards spark` (issue 31): exit 130 with one line, and no JVM of the local
cluster it started is left.

A module of its own, away from tests/test_spark.py: it starts a cluster of its own (it does not
need the session's), so pytest-xdist can hand it to the worker that does not own the session's
cluster, and the two run side by side instead of one after the other. Two clusters fit this
machine's memory (about 2.5 GB each after a build, docs/spark.md); each is told from the other
by its own folder, which every one of its JVMs names on its command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import psutil
import pytest
from support import rulebook_cases
from support.pipeline import REWARDS
from support.spark_cluster import our_jvms

from orchestration.settings import SPARK_THRIFT_ENV
from orchestration.spark.cluster import stop_left_behind
from orchestration.spark.processes import hearing_stop_signals

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("java")]


def test_rewards_spark_interrupted_exits_130_and_leaves_no_jvm(tmp_path):
    # the rulebook landing: the run is interrupted before it is loaded
    landing = rulebook_cases.build()[0].write(tmp_path / "landing")
    spark_dir = tmp_path / "spark"
    pid_file = spark_dir / "cluster" / "pids.json"
    env = {k: v for k, v in os.environ.items() if k != SPARK_THRIFT_ENV}
    cli = subprocess.Popen(
        # Ctrl-C's default action even when pytest runs where SIGINT is ignored (a background
        # job of a script), which a child would inherit (D96)
        hearing_stop_signals(
            [REWARDS, "spark", "--landing", str(landing), "--spark-dir", str(spark_dir)]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        # the cluster is up once the Thrift server's record holds its JVM's command line
        deadline = time.monotonic() + 240
        records: list[dict] = []
        while time.monotonic() < deadline and cli.poll() is None:
            try:
                records = json.loads(pid_file.read_text())
            except (OSError, ValueError):
                records = []
            roles = {r["role"]: r for r in records}
            if "thrift-server" in roles and roles["thrift-server"]["cmdline"][0].endswith("java"):
                break
            time.sleep(0.2)  # polling the pid file
        assert cli.poll() is None, cli.communicate()
        assert len(records) == 4
        cli.send_signal(signal.SIGINT)
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
            stop_left_behind(spark_dir)  # by its PID file: only processes still its own
    assert cli.returncode == 130, err
    assert err.count("\n") == 1 and "interrupted" in err and "stopped" in err, err
    assert "Traceback" not in err
    assert not any(psutil.pid_exists(r["pid"]) for r in records)
    assert our_jvms(str(spark_dir)) == []
    assert not pid_file.exists()
