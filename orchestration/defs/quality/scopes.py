"""How far the checks of the big tables have checked them (docs/decisions.md, D30).

The rows of the big tables carry the raw load they came from or were rebuilt through. A check
scope -- `dbt:<layer>` for a layer's dbt data tests, `gx:<schema>.<table>` for a Great
Expectations suite -- records in `quality.checked_through` the load through which its checks
last *passed*; the next run checks only the rows above it. A failing blocking check records
nothing, so the same rows are checked again (and block again) in every later run until they
are fixed. A full refresh of the order models forgets the scopes of the rebuilt tables, so their
every row is checked again.
"""

from __future__ import annotations

import duckdb

from ...duckdb_transaction import transaction
from ..landing import bookkeeping

TABLE = "quality.checked_through"


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    # the same table dbt's on-run-start creates (macro create_checked_through)
    con.execute("create schema if not exists quality")
    con.execute(
        f"create table if not exists {TABLE} (scope varchar not null, "
        "through bigint not null, checked_at timestamp with time zone not null, "
        "dagster_run_id varchar)"
    )


def load_watermark(con: duckdb.DuckDBPyConnection) -> int:
    """The newest raw load: every row of the warehouse is at or below it."""
    return bookkeeping.load_watermark(con)


def checked_through(con: duckdb.DuckDBPyConnection, scope: str) -> int:
    """The load through which `scope` last passed (0: never, or forgotten)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'quality' "
        "and table_name = 'checked_through'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute(
        f"select coalesce(max(through), 0) from {TABLE} where scope = ?", [scope]
    ).fetchone()[0]


def record_passed(
    con: duckdb.DuckDBPyConnection, scope: str, through: int, dagster_run_id: str
) -> None:
    """`scope`'s checks passed on every row up to load `through`."""
    _ensure_table(con)
    with transaction(con):
        con.execute(f"delete from {TABLE} where scope = ?", [scope])
        con.execute(
            f"insert into {TABLE} values (?, ?, now(), ?)", [scope, through, dagster_run_id]
        )


def forget(con: duckdb.DuckDBPyConnection, prefixes: tuple[str, ...]) -> None:
    """Check every row again of the scopes starting with one of `prefixes`."""
    _ensure_table(con)
    for prefix in prefixes:
        con.execute(f"delete from {TABLE} where starts_with(scope, ?)", [prefix])
