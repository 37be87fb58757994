"""Build the same dbt models on Apache Spark (docs/spark.md).

The loader writes the `raw` schema into DuckDB. `export_raw_to_parquet` copies every table of it
to Parquet under `$REWARDS_SPARK_DIR/raw/<table>/`, with the types Spark must see: instants as
UTC-adjusted Parquet timestamps (Spark TIMESTAMP), money as DECIMAL(18,2) (never a float), the
quarantine's JSON `record` as text. `build_on_spark` then runs, in this process, `dbt
run-operation register_raw_tables` (the Parquet folders become the tables of database `raw` in
Spark's metastore) and `dbt build --target spark`: dbt-spark's `session` method starts a local
PySpark here, and the models, their data tests and the reconciliation test run on Spark.
`build_and_read` does all of it in a child process and returns the tables asked for: the
Spark session and its JVM end with that process.

Everything Spark keeps (the Derby metastore, the table warehouse, scratch, dbt's target folder
and log) is under `$REWARDS_SPARK_DIR` (default `data/spark`), never in the working directory.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import duckdb

from .dbt_runner import invoke
from .dbt_runner.profiles import write_profile
from .defs.landing.loader import RAW_SCHEMA
from .formatting import lit, q
from .settings import REPO_ROOT, WAREHOUSE_ENV, Settings
from .warehouse_lock import holding_warehouse

SPARK_DIR_ENV = "REWARDS_SPARK_DIR"
DEFAULT_SPARK_DIR = REPO_ROOT / "data" / "spark"


class SparkBuildFailed(Exception):
    """`dbt build --target spark` did not succeed; the message names the failing nodes."""


def spark_dir_from_env() -> Path:
    return Path(os.environ.get(SPARK_DIR_ENV) or DEFAULT_SPARK_DIR).resolve()


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
        "does not map (orchestration/spark_target.py)"
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


# Spark's console: real warnings only, not the per-statement notes dbt-spark's session method
# causes ("Using an existing Spark session"), Hive's start-up chatter or the Derby metastore's
# first-use messages. profiles.yml points the JVM at this file in the Spark folder.
LOG4J2_PROPERTIES = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.session.name = org.apache.spark.sql.SparkSession
logger.session.level = error
logger.sparkconf.name = org.apache.spark.SparkConf
logger.sparkconf.level = error
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
logger.objectstore.name = org.apache.hadoop.hive.metastore.ObjectStore
logger.objectstore.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.hivesession.name = org.apache.hadoop.hive.ql.session.SessionState
logger.hivesession.level = error
logger.plantext.name = org.apache.spark.sql.catalyst.util.SparkStringUtils
logger.plantext.level = error
"""


def dbt_log(spark_dir: Path) -> Path:
    """dbt's log of the Spark builds in `spark_dir`."""
    return spark_dir / "dbt" / "logs" / "dbt.log"


def spark_profile(spark_dir: Path) -> Path:
    """The profiles folder of Spark builds in `spark_dir`: profiles.yml's `spark` target with
    its folders there (dbt_runner.profiles)."""
    return write_profile(spark_dir / "dbt" / "profile", "spark", {SPARK_DIR_ENV: str(spark_dir)})


def _node_failure(result) -> str:
    """One node's failure in a line: its id, status and the end of dbt's message (where a Java
    exception names its cause)."""
    message = " ".join((result.message or "").split())
    if len(message) > 600:
        message = message[:200] + " ... " + message[-400:]
    return f"{result.node.unique_id}: {result.status} {message}"


def run_dbt_on_spark(args: Sequence[str], spark_dir: Path) -> Any:
    """Run one dbt command against the `spark` target in this process; return dbt's result.

    dbt's own target folder and log go to `<spark_dir>/dbt`, away from the DuckDB project's
    `dbt_project/target` (whose manifest the Dagster code location reads)."""
    for sub in ("tmp", "scratch", "dbt"):
        (spark_dir / sub).mkdir(parents=True, exist_ok=True)
    (spark_dir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
    result = invoke(
        [*args, "--target", "spark"],
        spark_profile(spark_dir),
        target_path=spark_dir / "dbt" / "target",
        log_path=spark_dir / "dbt" / "logs",
    )
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


def build_on_spark(
    warehouse: Path | None = None,
    spark_dir: Path | None = None,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
) -> dict[str, int]:
    """Export the warehouse's raw schema to Parquet, then `dbt build --target spark` every model
    with its data tests (and, with `unit_tests`, dbt's unit tests, which pin the default vars:
    docs/decisions.md D15), in this process. Returns the exported rows per raw table; raises
    SparkBuildFailed. The Spark session stays up (`read_table`) until this process ends:
    `build_and_read` runs all of it in a process of its own."""
    warehouse = (warehouse or Settings.from_env().warehouse).resolve()
    spark_dir = (spark_dir or spark_dir_from_env()).resolve()
    if not warehouse.exists():
        raise FileNotFoundError(
            f"warehouse not found: {warehouse} (run `rewards run` first; or set {WAREHOUSE_ENV})"
        )
    exported = export_raw_to_parquet(warehouse, spark_dir)
    args = ["build"]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if var_overrides:
        from .rule_vars import resolve_rule_vars

        resolved = resolve_rule_vars({k: str(v) for k, v in var_overrides.items()})
        args += ["--vars", resolved.overrides_json]
    # Both in this process: one Spark session (JVM and metastore) for the two dbt commands.
    root = json.dumps({"root": str(spark_dir / "raw")})
    run_dbt_on_spark(["run-operation", "register_raw_tables", "--args", root], spark_dir)
    run_dbt_on_spark(args, spark_dir)
    return exported


def _session():
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()  # the one dbt-spark started, as configured


def read_table(name: str) -> list[dict[str, Any]]:
    """Every row of a table of the Spark session that built the models, as dicts. Decimals are
    Decimal; timestamps are naive datetimes in the local time zone (PySpark's convention):
    `.astimezone(UTC)` gives the instant."""
    return [row.asDict() for row in _session().table(name).collect()]


def table_schema(name: str) -> list[tuple[str, str]]:
    """(column, Spark type) of a table, in order."""
    return [(f.name, f.dataType.simpleString()) for f in _session().table(name).schema.fields]


def _build_and_read_here(
    warehouse: Path | None,
    spark_dir: Path | None,
    var_overrides: dict[str, Any] | None,
    unit_tests: bool,
    tables: Sequence[str],
    schemas: Sequence[str],
) -> dict[str, Any]:
    exported = build_on_spark(warehouse, spark_dir, var_overrides, unit_tests)
    out = {
        "exported": exported,
        "tables": {name: read_table(name) for name in tables},
        "schemas": {name: table_schema(name) for name in schemas},
    }
    _session().stop()
    return out


def build_and_read(
    warehouse: Path | None = None,
    spark_dir: Path | None = None,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
    tables: Sequence[str] = ("marts.account_rewards",),
    schemas: Sequence[str] = (),
) -> dict[str, Any]:
    """`build_on_spark`, then the rows of `tables` and the Spark types of `schemas`, in a child
    process of its own: when it ends, so do its Spark session and JVM (the Derby metastore's
    lock and the driver's memory are released), and a JVM that dies takes nothing of this
    process with it. Returns {"exported", "tables", "schemas"}; raises what the build raised."""
    spark_dir = (spark_dir or spark_dir_from_env()).resolve()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(
            _build_and_read_here,
            warehouse,
            spark_dir,
            var_overrides,
            unit_tests,
            tuple(tables),
            tuple(schemas),
        )
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise SparkBuildFailed(
                "the Spark build's process ended without an answer (its JVM or Python died; "
                f"see {dbt_log(spark_dir)})"
            ) from exc
