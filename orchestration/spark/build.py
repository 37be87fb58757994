"""Build the dbt models on Spark, over a Thrift server (docs/spark.md).

The raw tables are the Spark loader's (landing.py: the landing files into database `raw`, with
the contract and its quarantine). Given a Thrift server, `build_models` runs `dbt build --target
spark` and `read_tables` gives rows back with the project's Python types.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..dbt_runner import invoke
from ..dbt_runner.profiles import write_profile
from .cluster import ThriftEndpoint, default_timezone
from .thrift import thrift_connection

THRIFT_HOST_ENV = "REWARDS_SPARK_THRIFT_HOST"  # profiles.yml's `spark` target
THRIFT_PORT_ENV = "REWARDS_SPARK_THRIFT_PORT"
TIMEZONE_ENV = "REWARDS_SPARK_TIMEZONE"


class SparkBuildFailed(Exception):
    """`dbt build --target spark` did not succeed; the message names the failing nodes."""


def dbt_log(spark_dir: Path) -> Path:
    """dbt's log of the Spark builds in `spark_dir`."""
    return spark_dir / "dbt" / "logs" / "dbt.log"


def spark_profile(spark_dir: Path, endpoint: ThriftEndpoint) -> Path:
    """The profiles folder of builds from `spark_dir` against `endpoint`: profiles.yml's `spark`
    target (dbt-spark's `thrift` method) with its host and port (dbt_runner.profiles)."""
    values = {
        THRIFT_HOST_ENV: endpoint.host,
        THRIFT_PORT_ENV: str(endpoint.port),
        TIMEZONE_ENV: endpoint.timezone or default_timezone(),
    }
    return write_profile(spark_dir / "dbt" / "profile", "spark", values)


def _node_failure(result) -> str:
    """One node's failure in a line: its id, status and the end of dbt's message (where a Java
    exception names its cause)."""
    message = " ".join((result.message or "").split())
    if len(message) > 600:
        message = message[:200] + " ... " + message[-400:]
    return f"{result.node.unique_id}: {result.status} {message}"


@contextmanager
def interrupts_noted(first: Callable[[], None] | None = None) -> Iterator[list[int]]:
    """A list that gets an entry when Ctrl-C (SIGINT) arrives during the block; `first()` runs
    at the first one, then the signal's handler runs as before (Python's raises
    KeyboardInterrupt). In the main thread only, and not where SIGINT is ignored."""
    noted: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield noted
        return

    def note(signum, frame):
        noted.append(signum)
        if first is not None and len(noted) == 1:
            first()
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def invoke_on_spark(
    args: Sequence[str],
    spark_dir: Path,
    endpoint: ThriftEndpoint,
    callbacks: Sequence[Callable[[Any], None]] = (),
) -> Any:
    """`dbt ARGS --target spark` in this process against the Thrift server at `endpoint`, with
    dbt's target folder and log under `<spark_dir>/dbt`, away from the DuckDB project's
    `dbt_project/target` (whose manifest the Dagster code location reads); dbt's result."""
    (spark_dir / "dbt").mkdir(parents=True, exist_ok=True)
    return invoke(
        [*args, "--target", "spark"],
        spark_profile(spark_dir, endpoint),
        target_path=spark_dir / "dbt" / "target",
        log_path=dbt_log(spark_dir).parent,
        callbacks=callbacks,
    )


def run_dbt_on_spark(
    args: Sequence[str],
    spark_dir: Path,
    endpoint: ThriftEndpoint,
    on_interrupt: Callable[[], None] | None = None,
) -> Any:
    """Run one dbt command against the `spark` target (the Thrift server at `endpoint`) in this
    process (`invoke_on_spark`); return dbt's result, or raise SparkBuildFailed naming the
    failing nodes. `on_interrupt()` runs at the first Ctrl-C, before dbt hears of it: stopping
    a local cluster there ends the statements now running. Otherwise dbt's cancellation
    waits for each running statement to finish, and the statements of a large build take
    minutes (docs/spark.md)."""
    with interrupts_noted(on_interrupt) as interrupted:
        result = invoke_on_spark(args, spark_dir, endpoint)
    # dbt hands Ctrl-C back as its result, or as the error of the statements it cancelled
    # (over Thrift: "TSocket read 0 bytes"): it is still Ctrl-C
    if interrupted or isinstance(result.exception, KeyboardInterrupt):
        raise KeyboardInterrupt
    if result.exception is not None:
        raise SparkBuildFailed(f"dbt {args[0]} on Spark failed: {result.exception}")
    if not result.success:
        failures = [
            _node_failure(r)
            for r in getattr(result.result, "results", [])
            if str(r.status) in ("error", "fail", "runtime error")
        ]
        raise SparkBuildFailed(
            f"dbt {args[0]} on Spark failed: "
            + ("; ".join(failures) or f"see {dbt_log(spark_dir)}")
        )
    return result


def build_models(
    endpoint: ThriftEndpoint,
    spark_dir: Path,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
    on_interrupt: Callable[[], None] | None = None,
) -> Any:
    """`dbt build --target spark` on the Thrift server at `endpoint`: every model with its data
    tests (and, with `unit_tests`, dbt's unit tests, which pin the default vars: D15), from the
    tables of database `raw` as they are. Returns dbt's result; raises SparkBuildFailed.
    `on_interrupt`: as run_dbt_on_spark's."""
    args = ["build"]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if var_overrides:
        from ..rule_vars import resolve_rule_vars

        resolved = resolve_rule_vars({k: str(v) for k, v in var_overrides.items()})
        args += ["--vars", resolved.overrides_json]
    return run_dbt_on_spark(args, spark_dir, endpoint, on_interrupt)


def read_tables(
    endpoint: ThriftEndpoint, tables: Sequence[str] = (), schemas: Sequence[str] = ()
) -> dict[str, Any]:
    """{"tables": rows of each of `tables`, "schemas": (column, Spark type) of each of
    `schemas`}, over the Thrift server: Decimal money, int points, bool flags, timestamps as
    aware UTC instants (orchestration/spark/thrift.py)."""
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        return {
            "tables": {name: sql.read_table(name) for name in tables},
            "schemas": {name: sql.columns(name) for name in schemas},
        }
