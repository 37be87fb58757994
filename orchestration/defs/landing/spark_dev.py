"""A development Spark for the Spark loader: one local session (`local[2]`) in a child process
of its own, behind the loader's two interfaces (`spark_loader.SqlExecutor`, `AppRunner`). The
session plays both parts -- the SQL endpoint with its catalog, and the application runner -- so
tests need no cluster; the cluster's Thrift server and spark-submit are a swap of these two
objects. The JVM is the child's child: it is started on 127.0.0.1 with no UI and ends with the
child (`close`, which checks that no JVM of the child is left).
"""

from __future__ import annotations

import importlib
import multiprocessing
import subprocess
from pathlib import Path
from typing import Any

from .files import LandingError


class SparkFailed(RuntimeError):
    """A statement or app failed in the dev session; the message is Spark's first line."""


def _serve(conn, work_dir: str, driver_memory: str) -> None:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("rewards-landing-dev")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.warehouse.dir", str(Path(work_dir) / "warehouse"))
        .config("spark.local.dir", str(Path(work_dir) / "tmp"))
        .config("spark.sql.catalogImplementation", "in-memory")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    conn.send(("ready", None))
    while True:
        message = conn.recv()
        if message[0] == "stop":
            break
        try:
            if message[0] == "execute":
                spark.sql(message[1]).collect()
                answer: Any = None
            elif message[0] == "query":
                answer = [tuple(row) for row in spark.sql(message[1]).collect()]
            else:  # run_app
                module, function = message[1].split(":")
                getattr(importlib.import_module(module), function)(spark, message[2])
                answer = None
            conn.send(("ok", answer))
        except LandingError as exc:
            conn.send(("landing", str(exc)))
        except Exception as exc:  # noqa: BLE001 -- Spark's errors, sent back as one line
            first = str(exc).strip().splitlines()
            conn.send(("error", first[0] if first else type(exc).__name__))
    spark.stop()
    conn.send(("stopped", None))


class LocalSpark:
    """`with LocalSpark(work_dir) as spark:` -- `spark.execute`, `spark.query`, `spark.run_app`."""

    def __init__(self, work_dir: Path, driver_memory: str = "1g") -> None:
        self.work_dir = Path(work_dir)
        self.driver_memory = driver_memory
        self.process = None
        self.conn = None

    def __enter__(self) -> LocalSpark:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, str(self.work_dir), self.driver_memory), daemon=True
        )
        self.process.start()
        self._answer()
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def jvm_pids(self) -> list[int]:
        """The JVMs the child started (its children whose command is java)."""
        out = subprocess.run(
            ["ps", "-o", "pid=,args=", "--ppid", str(self.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(line.split()[0]) for line in out.splitlines() if "java" in line]

    def _answer(self) -> Any:
        if not self.conn.poll(600):
            raise SparkFailed("the dev Spark session did not answer within 10 minutes")
        kind, value = self.conn.recv()
        if kind == "landing":
            raise LandingError(value)
        if kind == "error":
            raise SparkFailed(value)
        return value

    def execute(self, sql: str) -> None:
        self.conn.send(("execute", sql))
        self._answer()

    def query(self, sql: str) -> list[tuple]:
        self.conn.send(("query", sql))
        return self._answer()

    def run_app(self, module_main: str, args: list[str]) -> None:
        self.conn.send(("run_app", module_main, list(args)))
        self._answer()

    def __exit__(self, *exc) -> None:
        if self.process is None:
            return
        if self.process.is_alive():
            self.conn.send(("stop",))
            self.conn.poll(120)
            self.process.join(120)
        if self.process.is_alive():  # our own child, by its handle
            self.process.terminate()
            self.process.join(30)
        self.process = None
