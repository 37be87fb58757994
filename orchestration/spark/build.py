"""Build the dbt models on Spark, over a Thrift server (docs/spark.md).

The raw tables still come from DuckDB for now: `export_raw_to_parquet` copies every table of the
warehouse's `raw` schema to Parquet under `<spark_dir>/raw/<table>/`, with the types Spark must
see (instants as UTC-adjusted Parquet timestamps, money as DECIMAL(18,2), never a float; the
quarantine's JSON `record` as text), and `register_raw_tables` makes them the tables of database
`raw` (`dbt run-operation`). The Spark loader replaces those two steps; `build_models` and
`read_tables` stay as they are: given a Thrift server, `dbt build --target spark` and the rows
back with the project's Python types. `build_from_warehouse` is the whole path on a local cluster
it starts and stops (or on a given Thrift server): `rewards spark`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ..dbt_runner import invoke
from ..dbt_runner.profiles import write_profile
from ..defs.landing.loader import RAW_SCHEMA
from ..formatting import lit, q
from ..settings import WAREHOUSE_ENV, SparkSettings
from ..warehouse_lock import holding_warehouse
from .cluster import LocalCluster, ThriftEndpoint, default_timezone
from .thrift import thrift_connection

THRIFT_HOST_ENV = "REWARDS_SPARK_THRIFT_HOST"  # profiles.yml's `spark` target
THRIFT_PORT_ENV = "REWARDS_SPARK_THRIFT_PORT"
TIMEZONE_ENV = "REWARDS_SPARK_TIMEZONE"


class SparkBuildFailed(Exception):
    """`dbt build --target spark` did not succeed; the message names the failing nodes."""


def _export_expression(column: str, duckdb_type: str) -> str:
    """How one raw column is written to Parquet so that Spark reads the type the models expect.

    Only the types the raw schema uses are accepted: anything else (a DOUBLE, a naive TIMESTAMP
    that Spark would read as TIMESTAMP_NTZ, a HUGEINT) is refused rather than silently changed.
    """
    kind = duckdb_type.upper()
    if kind == "JSON":  # a plain string in Parquet, not one annotated as JSON: any reader's text
        return f"cast({q(column)} as varchar) as {q(column)}"
    if kind in {"VARCHAR", "BIGINT", "BOOLEAN", "DATE", "TIMESTAMP WITH TIME ZONE"} or (
        kind.startswith("DECIMAL(")
    ):
        # TIMESTAMPTZ -> Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS) -> Spark TIMESTAMP;
        # DECIMAL(18,2) -> Parquet DECIMAL(18,2) -> Spark decimal(18,2)
        return q(column)
    raise ValueError(
        f"raw column {column} has type {duckdb_type}, which the Spark export "
        "does not map (orchestration/spark/build.py)"
    )


def export_raw_to_parquet(warehouse: Path, spark_dir: Path) -> dict[str, int]:
    """Write every table of the warehouse's `raw` schema to `<spark_dir>/raw/<table>/` (one
    Parquet file each, replacing the previous export as a whole, each row with its DuckDB
    `rowid` as `_row_id`); returns rows per table."""
    out = spark_dir / "raw"
    staging = spark_dir / "raw.export"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    rows: dict[str, int] = {}
    # no run writes while this reads (orchestration/warehouse_lock.py); refused during a run
    with (
        holding_warehouse(warehouse, "rewards spark (raw export)"),
        contextlib.closing(duckdb.connect(str(warehouse), read_only=True)) as con,
    ):
        con.execute("set TimeZone = 'UTC'")
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise ValueError(f"{warehouse} has no {RAW_SCHEMA} tables (run `rewards run` first)")
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [RAW_SCHEMA, table],
            ).fetchall()
            # DuckDB's number for each row goes along as `_row_id`: R2 reads an order's state
            # back by it (dbt_project/macros/order_versions.sql)
            select = ", ".join(
                [*(_export_expression(name, kind) for name, kind in columns), "rowid as _row_id"]
            )
            (staging / table).mkdir()
            target = staging / table / "part-0.parquet"
            con.execute(
                f"copy (select {select} from {RAW_SCHEMA}.{q(table)}) "
                f"to {lit(str(target))} (format parquet)"
            )
            rows[table] = con.execute(f"select count(*) from {RAW_SCHEMA}.{q(table)}").fetchone()[0]
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return rows


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
def _interrupts_noted() -> Iterator[list[int]]:
    """A list that gets an entry when Ctrl-C (SIGINT) arrives during the block; the signal's
    handler runs as before (Python's raises KeyboardInterrupt). In the main thread only, and
    not where SIGINT is ignored."""
    noted: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield noted
        return

    def note(signum, frame):
        noted.append(signum)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def run_dbt_on_spark(args: Sequence[str], spark_dir: Path, endpoint: ThriftEndpoint) -> Any:
    """Run one dbt command against the `spark` target (the Thrift server at `endpoint`) in this
    process; return dbt's result, or raise SparkBuildFailed naming the failing nodes.

    dbt's own target folder and log go to `<spark_dir>/dbt`, away from the DuckDB project's
    `dbt_project/target` (whose manifest the Dagster code location reads)."""
    (spark_dir / "dbt").mkdir(parents=True, exist_ok=True)
    with _interrupts_noted() as interrupted:
        result = invoke(
            [*args, "--target", "spark"],
            spark_profile(spark_dir, endpoint),
            target_path=spark_dir / "dbt" / "target",
            log_path=spark_dir / "dbt" / "logs",
        )
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


def register_raw_tables(endpoint: ThriftEndpoint, spark_dir: Path, root: str | None = None):
    """The Parquet folders under `root` (default `<spark_dir>/raw`, the export) as the tables
    of database `raw` (macro register_raw_tables)."""
    args = json.dumps({"root": root or str(spark_dir / "raw")})
    run_dbt_on_spark(["run-operation", "register_raw_tables", "--args", args], spark_dir, endpoint)


def build_models(
    endpoint: ThriftEndpoint,
    spark_dir: Path,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
) -> Any:
    """`dbt build --target spark` on the Thrift server at `endpoint`: every model with its data
    tests (and, with `unit_tests`, dbt's unit tests, which pin the default vars: D15), from the
    tables of database `raw` as they are. Returns dbt's result; raises SparkBuildFailed."""
    args = ["build"]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if var_overrides:
        from ..rule_vars import resolve_rule_vars

        resolved = resolve_rule_vars({k: str(v) for k, v in var_overrides.items()})
        args += ["--vars", resolved.overrides_json]
    return run_dbt_on_spark(args, spark_dir, endpoint)


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


@contextmanager
def spark_endpoint(settings: SparkSettings) -> Iterator[ThriftEndpoint]:
    """The Thrift server of `settings`, or a local cluster in its Spark folder, started for the
    block and stopped after it (also on an error or Ctrl-C)."""
    if settings.thrift is not None:
        host, port = settings.thrift
        yield ThriftEndpoint(host, port, settings.master)
        return
    with LocalCluster(settings.spark_dir) as cluster:
        yield cluster.endpoint


def build_from_warehouse(
    warehouse: Path,
    settings: SparkSettings,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
    tables: Sequence[str] = ("marts.account_rewards",),
    schemas: Sequence[str] = (),
) -> dict[str, Any]:
    """Export the warehouse's raw schema, then on the Spark of `settings` (spark_endpoint):
    register it, build the models, read `tables` and `schemas` back. Returns {"exported",
    "tables", "schemas"}; raises SparkBuildFailed, ClusterError, FileNotFoundError."""
    warehouse = warehouse.resolve()
    if not warehouse.exists():
        raise FileNotFoundError(
            f"warehouse not found: {warehouse} (run `rewards run` first; or set {WAREHOUSE_ENV})"
        )
    exported = export_raw_to_parquet(warehouse, settings.spark_dir)
    with spark_endpoint(settings) as endpoint:
        register_raw_tables(endpoint, settings.spark_dir)
        build_models(endpoint, settings.spark_dir, var_overrides, unit_tests)
        return {"exported": exported, **read_tables(endpoint, tables, schemas)}
