"""One Spark Thrift server for a test module, on the metastore and warehouse a Spark build left in
`spark_dir` (orchestration/spark_target.py): started with PySpark's own `spark-submit` on
127.0.0.1 with port 0, ready when its log names the port and the port accepts a connection, and
stopped by its PID (its command line checked first). The local cluster of issue 31 replaces it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
APP_NAME = "short-video-rewards quality tests"
START_SECONDS = 180
STOP_SECONDS = 30

LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.thrift.name = org.apache.hive.service.cli.thrift.ThriftCLIService
logger.thrift.level = info
logger.server.name = org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
logger.server.level = info
"""


def _conf(spark_dir: Path, timezone: str) -> dict[str, str]:
    """The Spark build's settings (dbt_project/profiles.yml, target `spark`) on one core."""
    java = (
        f"-Dderby.system.home={spark_dir} -Dderby.system.durability=test "
        f"-Djava.io.tmpdir={spark_dir / 'tmp'} "
        f"-Dlog4j2.configurationFile={spark_dir / 'log4j2-thrift.properties'} "
        f"-Duser.timezone={timezone} -XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    )
    return {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.driver.extraJavaOptions": java,
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        "spark.sql.ansi.enabled": "false",
        # not UTC: the checks' Beijing days must not depend on the session's zone (R1)
        "spark.sql.session.timeZone": timezone,
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.sql.sources.default": "parquet",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.hive.thriftServer.async": "false",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.hadoop.hive.exec.scratchdir": str(spark_dir / "scratch"),
        "spark.hadoop.hive.exec.local.scratchdir": str(spark_dir / "scratch"),
        "spark.local.dir": str(spark_dir / "tmp"),
    }


def _wait_for_port(popen: subprocess.Popen, log: Path) -> int:
    deadline = time.monotonic() + START_SECONDS
    port = None
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"ThriftBinaryCLIService on port (\d+)", text)
        if found and "HiveThriftServer2 started" in text:
            port = int(found.group(1))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return port
            except OSError:
                pass
        if popen.poll() is not None:
            raise RuntimeError(f"the Thrift server exited with {popen.returncode}; see {log}")
        time.sleep(0.2)  # polling the log, not waiting for readiness
    raise RuntimeError(f"the Thrift server was not ready in {START_SECONDS} s; see {log}")


def _stop(pid: int) -> None:
    """Stop the server by its PID, after checking that the PID is still that server."""
    try:
        process = psutil.Process(pid)
        command = " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return
    if THRIFT_CLASS not in command or APP_NAME not in command:
        return  # the PID was reused: not ours
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(STOP_SECONDS)


@contextmanager
def thrift_server(spark_dir: Path, timezone: str) -> Iterator[tuple[str, int]]:
    """A Spark Thrift server on `spark_dir`'s metastore: (host, port) while the block runs."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    (spark_dir / "tmp").mkdir(parents=True, exist_ok=True)
    (spark_dir / "log4j2-thrift.properties").write_text(LOG4J2)
    log = spark_dir / "thrift-server.log"
    command = [
        str(spark_home / "bin" / "spark-submit"),
        "--class",
        THRIFT_CLASS,
        "--master",
        "local[1]",
        "--driver-memory",
        "1g",
        "--name",
        APP_NAME,
        *[a for k, v in _conf(spark_dir, timezone).items() for a in ("--conf", f"{k}={v}")],
        "spark-internal",
        "--hiveconf",
        "hive.server2.thrift.port=0",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        "--hiveconf",
        "hive.server2.transport.mode=binary",
    ]
    with open(log, "w") as out:
        # spark-submit execs the JVM: the child's PID is the server's
        popen = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SPARK_HOME": str(spark_home)},
            start_new_session=True,
        )
    try:
        yield "127.0.0.1", _wait_for_port(popen, log)
    finally:
        _stop(popen.pid)
        popen.wait(STOP_SECONDS)
