"""Submit a PySpark application to a standalone master and wait for it (D80).

For the work SQL over the Thrift server cannot do (the Spark loader's file checks). The
application runs its driver here (client mode) and its executors on the cluster's workers, with
this environment's Python on both sides; it uses Spark's in-memory catalog, never the Hive
metastore, which only the Thrift server opens.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from subprocess import DEVNULL, Popen
from urllib.parse import urlsplit

from .cluster import (
    APP_MEMORY_MIB,
    ClusterError,
    LocalCluster,
    ThriftEndpoint,
    default_timezone,
    spark_home,
)
from .processes import hearing_stop_signals

APP_MEMORY = f"{APP_MEMORY_MIB}m"  # its driver's heap and each executor's


def submit(
    target: LocalCluster | ThriftEndpoint,
    script: Path,
    args: Sequence[str] = (),
    log: Path | None = None,
    cores: int = 2,
    driver_memory: str = APP_MEMORY,
) -> None:
    """Run `script ARGS` as an application of the cluster's master; return when it succeeded,
    else raise ClusterError with the end of its log in one line. Ctrl-C stops it."""
    if isinstance(target, LocalCluster):
        master, timezone = target.master_url, target.timezone
        properties = ["--properties-file", str(target.properties)]  # JVM options, loopback
        log = log or target.log_dir / f"app-{Path(script).stem}-{time.time_ns()}.log"
        env = target.environment()
    else:
        master, timezone = target.master_url, target.timezone or default_timezone()
        # Beijing days in the driver's and executors' JVMs too (R1, D78), as options Spark puts
        # before the configuration folder's `extraJavaOptions`, which are kept (D94); a master on
        # loopback reaches a driver on loopback only
        options = f"-Duser.timezone={timezone}"
        properties = [
            *("--conf", f"spark.driver.defaultJavaOptions={options}"),
            *("--conf", f"spark.executor.defaultJavaOptions={options}"),
        ]
        if master and urlsplit(master).hostname in ("127.0.0.1", "localhost", "::1"):
            properties += ["--conf", "spark.driver.host=127.0.0.1"]
            properties += ["--conf", "spark.driver.bindAddress=127.0.0.1"]
            properties += ["--conf", "spark.ui.enabled=false"]  # no port of its own
        log = log or Path(f"app-{Path(script).stem}-{time.time_ns()}.log").resolve()
        # the given Spark configuration folder (its spark-defaults.conf), passed to the child only
        env = (
            None
            if target.conf_dir is None
            else {**os.environ, "SPARK_CONF_DIR": str(target.conf_dir)}
        )
    if not master:
        raise ClusterError("submitting an application needs the master's URL: REWARDS_SPARK_MASTER")
    command = [
        str(spark_home() / "bin" / "spark-submit"),
        "--master",
        master,
        "--name",
        f"short-video-rewards {Path(script).name}",
        *properties,
        "--driver-memory",
        driver_memory,
        *("--conf", f"spark.executor.memory={APP_MEMORY}"),
        *("--conf", "spark.executor.cores=1"),
        *("--conf", f"spark.cores.max={cores}"),
        *("--conf", f"spark.pyspark.python={sys.executable}"),
        *("--conf", f"spark.pyspark.driver.python={sys.executable}"),
        *("--conf", "spark.sql.catalogImplementation=in-memory"),
        *("--conf", f"spark.sql.session.timeZone={timezone}"),
        *("--conf", "spark.sql.decimalOperations.allowPrecisionLoss=false"),
        str(script),
        *map(str, args),
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        # terminated on Ctrl-C: it must hear SIGTERM, even from a background job (D96)
        popen = Popen(hearing_stop_signals(command), stdin=DEVNULL, stdout=out, stderr=out, env=env)
    try:
        code = popen.wait()
    except BaseException:
        popen.terminate()
        popen.wait()
        raise
    if code != 0:
        tail = " | ".join(_application_lines(log.read_text(errors="replace")))[-400:]
        raise ClusterError(f"{Path(script).name} failed on Spark (exit {code}); see {log}: {tail}")


# Spark's own log lines, and the Java stack traces that follow them (an executor's connection
# reset as the application shuts down): not what the application said
_SPARK_LOG_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (TRACE|DEBUG|INFO|WARN|ERROR) ")
_JAVA_TRACE_LINE = re.compile(r"^(at |\.\.\. \d+ more|Caused by: )|^[a-z]+(\.[\w$]+)+(: |$)")


def _application_lines(text: str) -> list[str]:
    """The lines of an application's log that are its own (Python's traceback, its message), in
    order; all non-empty lines when there are none."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    own = [
        line
        for line in lines
        if not _SPARK_LOG_LINE.match(line) and not _JAVA_TRACE_LINE.match(line)
    ]
    return own or lines
