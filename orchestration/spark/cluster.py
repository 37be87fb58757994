"""A Spark standalone cluster on this machine, started the way one runs in production (D75).

`LocalCluster(spark_dir)` starts, on 127.0.0.1 with port 0 everywhere: a standalone Master, two
Workers (separate JVMs, whose executors are further JVMs), and a Spark Thrift Server submitted to
that master, which is the only process that opens the Hive metastore (Derby, in
`<spark_dir>/metastore_db`). It waits on log lines and the listening socket, never on a sleep,
records every PID with its command line in `<spark_dir>/cluster/pids.json`
(orchestration/spark/processes.py, D76), and stops them all by PID: on `stop()`, at the end of a
`with` block, on an exception or Ctrl-C during start. Memory and time zone: D77, D78.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import DEVNULL, Popen

from ..file_lock import FileLock
from .processes import (
    RecordedProcess,
    hearing_stop_signals,
    interrupts_deferred,
    read_pid_file,
    record,
    refreshed,
    stop_recorded,
    write_pid_file,
)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_SECONDS = 180.0


class ClusterError(RuntimeError):
    """The cluster could not start (or a process of it died); one line naming its log."""


@dataclass(frozen=True)
class ThriftEndpoint:
    """Where a Thrift server answers, and the master applications are submitted to."""

    host: str
    port: int
    master_url: str | None = None
    timezone: str | None = None  # its session time zone, when known (read-back of timestamps)
    # the Spark configuration folder (spark-defaults.conf) applications submitted to the master
    # start with; None: spark-submit's own ($SPARK_CONF_DIR)
    conf_dir: Path | None = None


# a submitted application's driver heap and each of its executors' (orchestration/spark/submit.py)
APP_MEMORY_MIB = 512


@dataclass(frozen=True)
class Memory:
    """Sized for a 2-core, 24 GB machine shared with pytest's other worker and DuckDB (D77).

    A worker offers `worker` to executors: the Thrift server's executor and one of a submitted
    application. SPARK_DAEMON_MEMORY is set per process: for the Thrift server it is its
    driver's heap (it overrides --driver-memory; Spark refuses less than 450 MiB)."""

    daemon: str = "192m"  # master and worker JVMs
    thrift_driver: str = "768m"
    executor: str = "512m"
    worker: str = "1g"
    worker_cores: int = 2  # task slots: one for the Thrift server's executor, one for an app

    @classmethod
    def with_executor(cls, executor_mib: int) -> Memory:
        """The Thrift server's executors (the build's SQL) at `executor_mib` MiB each
        (REWARDS_SPARK_EXECUTOR_MEMORY, D97); each worker then offers that and a submitted
        application's executor (APP_MEMORY)."""
        return cls(executor=f"{executor_mib}m", worker=f"{executor_mib + APP_MEMORY_MIB}m")


def spark_home() -> Path:
    """The installed pyspark package: bin/spark-class, bin/spark-submit and every jar."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def default_timezone() -> str:
    """R1's time zone, the `timezone` rule var (dbt_project.yml): every JVM's and session's."""
    from ..rule_vars import rule_var_defaults

    return str(rule_var_defaults()["timezone"])


# Spark's logs: warnings, plus the lines the start waits on (the master's URL, a worker's
# registration, the Thrift server's port) and the executors granted to an application.
LOG4J2_PROPERTIES = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.master.name = org.apache.spark.deploy.master.Master
logger.master.level = info
logger.worker.name = org.apache.spark.deploy.worker.Worker
logger.worker.level = info
logger.thrift.name = org.apache.hive.service.cli.thrift.ThriftCLIService
logger.thrift.level = info
logger.server.name = org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
logger.server.level = info
logger.backend.name = org.apache.spark.scheduler.cluster.StandaloneSchedulerBackend
logger.backend.level = info
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
logger.objectstore.name = org.apache.hadoop.hive.metastore.ObjectStore
logger.objectstore.level = error
logger.sessionstate.name = org.apache.hadoop.hive.ql.session.SessionState
logger.sessionstate.level = error
logger.plantext.name = org.apache.spark.sql.catalyst.util.SparkStringUtils
logger.plantext.level = error
"""


def jvm_options(spark_dir: Path, timezone: str) -> str:
    """Every JVM of the cluster (daemons, driver, executors): Beijing days whatever the machine's
    zone (R1, D78), temp files under the Spark folder, and a client JIT with the serial GC (a
    build is many small queries; docs/spark.md)."""
    return (
        f"-Duser.timezone={timezone} -Djava.io.tmpdir={spark_dir / 'tmp'} "
        "-XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    )


def session_conf(spark_dir: Path, timezone: str) -> dict[str, str]:
    """The Thrift server's configuration: what every SQL session of it starts with. The models
    rely on these (docs/spark.md): exact decimals, Parquet tables, the session time zone."""
    return {
        # Exact decimals (R7, R11): never round a product's scale to fit 38 digits.
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        # dbt-spark's session method forced ANSI off; the models are written for it (D59).
        "spark.sql.ansi.enabled": "false",
        "spark.sql.session.timeZone": timezone,
        # CREATE TABLE without USING makes a Parquet table, not a Hive text table.
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.sql.sources.default": "parquet",
        # Tiny per-statement data: few shuffle partitions instead of 200.
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.catalogImplementation": "hive",
        # Run each statement within its ExecuteStatement call: dbt-spark then finds it finished
        # at its first poll, instead of sleeping its poll_interval (1 s at least) per statement
        # (docs/spark.md, D79).
        "spark.sql.hive.thriftServer.async": "false",
        # Hand a statement's result to the client a partition at a time, never whole in the
        # server's heap: GX reads a query asset's columns by running its query (every row of
        # raw.orders, 2M rows at 1M orders), which ran the server out of memory (D92).
        "spark.sql.thriftServer.incrementalCollect": "true",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.hadoop.hive.exec.scratchdir": str(spark_dir / "scratch"),
        "spark.hadoop.hive.exec.local.scratchdir": str(spark_dir / "scratch"),
        # one folder per session, as Hive's default: a session deletes its folder when it ends,
        # so a shared one vanished under dbt's other session ("Couldn't create directory")
        "spark.hadoop.hive.downloaded.resources.dir": (
            str(spark_dir / "scratch") + "/${hive.session.id}_resources"
        ),
    }


def _wait_for_line(
    popen: Popen, log: Path, pattern: re.Pattern, what: str, deadline: float
) -> re.Match:
    """The first match of `pattern` in the process's log, read as it grows; ClusterError naming
    the log when the process exits or the deadline passes first."""
    seen = ""
    with open(log, errors="replace") as f:
        while True:
            seen += f.read()
            found = pattern.search(seen)
            if found:
                return found
            if popen.poll() is not None:
                raise ClusterError(
                    f"{what} exited with code {popen.returncode} before it was ready; "
                    f"see {log}: {_last_line(seen)}"
                )
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"{what} was not ready within {START_TIMEOUT_SECONDS:.0f} s; see {log}"
                )
            time.sleep(0.1)  # a poll of the log, not a wait for readiness


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "(empty log)"


def _wait_until_accepting(host: str, port: int, popen: Popen, log: Path, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            if popen.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(
                    f"the Thrift server does not accept connections on {host}:{port}; see {log}"
                ) from None
            time.sleep(0.1)


def _stop_in_order(records: Sequence[RecordedProcess]) -> list[str]:
    """The Thrift server first (its application ends, and with it its executors), then the
    workers and the master together; returns the roles signalled."""
    first = stop_recorded([r for r in records if r.main_class == THRIFT_CLASS])
    return first + stop_recorded([r for r in records if r.main_class != THRIFT_CLASS])


def stop_left_behind(spark_dir: Path) -> list[str]:
    """Stop what `<spark_dir>/cluster/pids.json` records of a cluster that was not stopped (its
    Python was killed): only the processes still ours are signalled (D76). Returns their roles."""
    pid_file = Path(spark_dir) / "cluster" / "pids.json"
    stale = read_pid_file(pid_file)
    stopped = []
    if stale:
        with interrupts_deferred():
            stopped = _stop_in_order(stale)
        pid_file.unlink(missing_ok=True)
    return stopped


class LocalCluster:
    """A master, `workers` workers and a Thrift server on 127.0.0.1 (module docstring).

    Use as a context manager, or start() / stop(). After start(): `master_url`,
    `thrift_host`, `thrift_port`, `endpoint`, `pids` (role -> PID)."""

    def __init__(
        self,
        spark_dir: Path,
        timezone: str | None = None,
        workers: int = 2,
        memory: Memory | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.spark_dir = Path(spark_dir).resolve()
        self.timezone = timezone or default_timezone()
        self.workers = workers
        self.memory = memory or Memory()
        self._environ = dict(os.environ if environ is None else environ)
        self.cluster_dir = self.spark_dir / "cluster"
        self.pid_file = self.cluster_dir / "pids.json"
        self.log_dir = self.cluster_dir / "logs"
        self.conf_dir = self.cluster_dir / "conf"
        self.properties = self.conf_dir / "spark-defaults.conf"
        self.master_url: str | None = None
        self.thrift_host = "127.0.0.1"
        self.thrift_port: int | None = None
        self.started_seconds: float | None = None
        self._popens: list[Popen] = []
        self._records: list[RecordedProcess] = []
        self._lock = FileLock(self.spark_dir / "cluster.lock")
        self._locked = False

    # -- public ------------------------------------------------------------------------------

    @property
    def endpoint(self) -> ThriftEndpoint:
        if self.thrift_port is None:
            raise ClusterError("the cluster is not started")
        return ThriftEndpoint(self.thrift_host, self.thrift_port, self.master_url, self.timezone)

    @property
    def pids(self) -> dict[str, int]:
        return {r.role: r.pid for r in self._records}

    @property
    def records(self) -> list[RecordedProcess]:
        return list(self._records)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> LocalCluster:
        """Start every process and wait until the Thrift server accepts connections. Any
        failure, or Ctrl-C, stops what was started before it propagates."""
        began = time.monotonic()
        try:
            self._lock.acquire(wait_seconds=0)
        except TimeoutError:
            raise ClusterError(
                f"another cluster runs in {self.spark_dir} (its processes: {self.pid_file})"
            ) from None
        self._locked = True
        try:
            self._start(time.monotonic() + START_TIMEOUT_SECONDS)
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every process this cluster started, by PID (the Thrift server first, then the
        workers and the master together); idempotent. No JVM of it is left."""
        with interrupts_deferred():
            _stop_in_order([refreshed(r) for r in self._records])
            for popen in reversed(self._popens):  # launched, maybe not yet recorded
                if popen.poll() is None:
                    popen.terminate()
                    try:
                        popen.wait(timeout=20)
                    except Exception:  # noqa: BLE001 -- a stop must go on
                        popen.kill()
                        popen.wait()
            self._popens, self._records = [], []
            self.pid_file.unlink(missing_ok=True)
            self.thrift_port = None
            if self._locked:
                self._lock.release()
                self._locked = False

    # -- starting ----------------------------------------------------------------------------

    def _prepare(self) -> None:
        for sub in ("tmp", "scratch", "warehouse", "cluster/logs", "cluster/conf"):
            (self.spark_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
        # Every process is started with `--properties-file` this file: its path marks our
        # processes' command lines (processes.py) from launch to exit.
        options = jvm_options(self.spark_dir, self.timezone)
        self.properties.write_text(
            "\n".join(
                f"{k} {v}"
                for k, v in {
                    "spark.driver.extraJavaOptions": options,
                    "spark.executor.extraJavaOptions": options,
                    "spark.ui.enabled": "false",
                    "spark.ui.showConsoleProgress": "false",
                    "spark.driver.host": "127.0.0.1",
                    "spark.driver.bindAddress": "127.0.0.1",
                    "spark.local.dir": str(self.spark_dir / "tmp"),
                    "spark.pyspark.python": sys.executable,
                }.items()
            )
            + "\n"
        )

    def environment(self, daemon_memory: str | None = None) -> dict[str, str]:
        """The environment of a process of this cluster (or of an application submitted to
        it): passed to the child, never written into this process's environment."""
        env = dict(self._environ)
        for name in (
            "SPARK_CONF_DIR",
            "SPARK_DAEMON_JAVA_OPTS",
            "SPARK_DAEMON_MEMORY",
            "SPARK_DRIVER_MEMORY",
        ):
            env.pop(name, None)
        if daemon_memory:
            env["SPARK_DAEMON_MEMORY"] = daemon_memory
        env.update(
            {
                "SPARK_HOME": str(spark_home()),
                "SPARK_CONF_DIR": str(self.conf_dir),
                "SPARK_LOCAL_IP": "127.0.0.1",
                "SPARK_LOCAL_DIRS": str(self.spark_dir / "tmp"),
                "SPARK_DAEMON_JAVA_OPTS": jvm_options(self.spark_dir, self.timezone),
                "PYSPARK_PYTHON": sys.executable,
                "TZ": self.timezone,
            }
        )
        return env

    def _launch(self, role: str, main_class: str, args: Sequence[str], memory: str) -> Popen:
        log = self.log_dir / f"{role}.log"
        with open(log, "w") as out:
            # a session of its own: Ctrl-C in a terminal reaches this process, which stops the
            # cluster in order (the Thrift server first), not every JVM at once
            popen = Popen(
                hearing_stop_signals(args),  # stopped by SIGTERM, even from a background job
                stdin=DEVNULL,
                stdout=out,
                stderr=out,
                cwd=self.spark_dir,
                env=self.environment(memory),
                start_new_session=True,
            )
        self._popens.append(popen)
        self._records.append(record(role, popen.pid, main_class, str(self.properties), log))
        write_pid_file(self.pid_file, self._records)
        return popen

    def _start(self, deadline: float) -> None:
        stop_left_behind(self.spark_dir)
        self._prepare()
        bin_dir = spark_home() / "bin"
        props = ["--properties-file", str(self.properties)]
        loopback = ["--host", "127.0.0.1", "--port", "0", "--webui-port", "0"]

        master = self._launch(
            "master",
            MASTER_CLASS,
            [str(bin_dir / "spark-class"), MASTER_CLASS, *loopback, *props],
            self.memory.daemon,
        )
        found = _wait_for_line(
            master,
            self.log_dir / "master.log",
            re.compile(r"Starting Spark master at (spark://\S+)"),
            "the Spark master",
            deadline,
        )
        self.master_url = found.group(1)

        workers = []
        for n in range(1, self.workers + 1):
            role = f"worker-{n}"
            workers.append(
                self._launch(
                    role,
                    WORKER_CLASS,
                    [
                        str(bin_dir / "spark-class"),
                        WORKER_CLASS,
                        *loopback,
                        "--cores",
                        str(self.memory.worker_cores),
                        "--memory",
                        self.memory.worker,
                        "--work-dir",
                        str(self.cluster_dir / role),
                        *props,
                        self.master_url,
                    ],
                    self.memory.daemon,
                )
            )
        registered = re.compile(r"Successfully registered with master")
        for n, worker in enumerate(workers, 1):
            log = self.log_dir / f"worker-{n}.log"
            _wait_for_line(worker, log, registered, f"Spark worker {n}", deadline)

        conf = {
            **session_conf(self.spark_dir, self.timezone),
            # the Thrift server's executors: one per worker, one core each; the rest of the
            # workers' slots stay free for applications submitted to the master
            "spark.cores.max": str(self.workers),
            "spark.executor.cores": "1",
            "spark.executor.memory": self.memory.executor,
        }
        thrift = self._launch(
            "thrift-server",
            THRIFT_CLASS,
            [
                str(bin_dir / "spark-submit"),
                "--class",
                THRIFT_CLASS,
                "--master",
                self.master_url,
                "--name",
                "short-video-rewards thrift server",
                *props,
                *[a for k, v in conf.items() for a in ("--conf", f"{k}={v}")],
                "spark-internal",
                "--hiveconf",
                "hive.server2.thrift.port=0",
                "--hiveconf",
                f"hive.server2.thrift.bind.host={self.thrift_host}",
                "--hiveconf",
                "hive.server2.transport.mode=binary",
            ],
            self.memory.thrift_driver,
        )
        log = self.log_dir / "thrift-server.log"
        found = _wait_for_line(
            thrift,
            log,
            re.compile(r"ThriftBinaryCLIService on port (\d+)"),
            "the Spark Thrift server",
            deadline,
        )
        port = int(found.group(1))
        _wait_for_line(
            thrift, log, re.compile(r"HiveThriftServer2 started"), "the Thrift server", deadline
        )
        _wait_until_accepting(self.thrift_host, port, thrift, log, deadline)
        self.thrift_port = port
        # the JVMs' own command lines (spark-class execs them in the launched PIDs)
        self._records = [refreshed(r) for r in self._records]
        write_pid_file(self.pid_file, self._records)
