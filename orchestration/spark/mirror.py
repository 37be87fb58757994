"""What a Spark run built, copied into the DuckDB warehouse file (D89).

On the Spark engine the warehouse file holds no raw data and builds nothing: after each dbt build
on Spark it receives every table of Spark's `marts` database and the loader's bookkeeping
(`raw.load_files`, `raw.load_log`), each replaced whole with its columns in DuckDB's exact
counterparts of their Spark types (output.duckdb_columns). Everything that reads marts after a
run then reads them as it does on DuckDB: the run's summary, the serving copy and every finance
command (explain, export, publish, statements).

The rows cross the Thrift server (`ThriftSql.read_table`): exact, and fast enough for the marts
of a few million orders; the order lines of hundreds of millions would want the marts' Parquet
files read directly instead (docs/spark.md).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import duckdb

from ..duckdb_transaction import transaction
from .cluster import ThriftEndpoint
from .output import arrow_table, duckdb_columns
from .thrift import thrift_connection

BOOKKEEPING = ("raw.load_files", "raw.load_log")


def mirror_marts(
    endpoint: ThriftEndpoint,
    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
) -> dict[str, int]:
    """Copy Spark's marts and the loader's bookkeeping into the warehouse `connect()` opens for
    writing, each table replaced whole in one transaction; returns rows per table."""
    counts = {}
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        tables = [f"marts.{row[1]}" for row in sql.query("show tables in marts")] + list(
            BOOKKEEPING
        )
        read = {table: (sql.columns(table), sql.read_table(table)) for table in tables}
    with connect() as con, transaction(con):
        for schema in {table.split(".")[0] for table in tables}:
            con.execute(f"create schema if not exists {schema}")
        for table, (columns, rows) in read.items():
            declared = ", ".join(duckdb_columns(columns))
            con.execute(f"create or replace table {table} ({declared})")
            incoming = arrow_table(columns, rows)
            con.register("incoming", incoming)
            con.execute(f"insert into {table} select * from incoming")
            con.unregister("incoming")
            counts[table] = len(rows)
    return counts
