"""Reading the serving copy: the read-only DuckDB file of the marts that finance reads while runs
write (the run writes it after every good run: orchestration/defs/serving/copy.py, D23, D29).

Readers open the copy read-only, through the link to its current generation: they see the last
good run whole, and a reader that opened the old file keeps reading it after the swap. The copy
records what it was built from (`serving.build`: Dagster run, time, code version, rule vars) and
every landing file in the raw tables with its SHA-256 (`serving.input_files`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

LOCK_RETRY_SECONDS = 30.0


class NoServingCopy(Exception):
    """No successful run has produced the serving copy yet."""


@dataclass(frozen=True)
class BuildInfo:
    dagster_run_id: str
    built_at: str
    code_version: str
    rule_vars: dict[str, Any]


def _connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def retry_while_locked(
    open_: Callable[[], Any], what: str, seconds: float = LOCK_RETRY_SECONDS
) -> Any:
    """Open a DuckDB file another process may be writing for a moment (the ledger during a
    publish): retry on its lock for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise RuntimeError(f"{what} is locked by another process: {exc}") from exc
            time.sleep(0.2)


@contextlib.contextmanager
def open_serving_copy(
    serving_copy: Path, ledger: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The last good marts, read-only, with the ledger attached as `payouts` when it exists
    (`payouts.ledger.entries`, `payouts.ledger.payout_runs`). A ledger whose anchor says it
    exists, but which does not, is refused (LedgerMissing): read as empty, it would show every
    account unpaid."""
    if not serving_copy.exists():
        raise NoServingCopy(
            f"no serving copy at {serving_copy}: it is written after a successful run "
            "(`rewards run`, or Materialize all in the Dagster UI)"
        )
    con = _connect_read_only(serving_copy)
    try:
        con.execute("set enable_progress_bar = false")
        # instants read and written in the programme's timezone (Beijing, R1)
        con.execute(f"set TimeZone = '{read_build_info(con).rule_vars['timezone']}'")
        if ledger is not None:
            # imported here: the ledger's modules read the serving copy through this one
            from .ledger.anchor import refuse_if_missing
            from .ledger.files import attach_read_only

            if refuse_if_missing(ledger):  # a missing ledger is refused, not read as empty
                attach_read_only(con, ledger)
        yield con
    finally:
        con.close()


def read_build_info(con: duckdb.DuckDBPyConnection) -> BuildInfo:
    run_id, built_at, version, rule_vars = con.execute(
        "select dagster_run_id, built_at, code_version, rule_vars from serving.build"
    ).fetchone()
    return BuildInfo(run_id, built_at, version, json.loads(rule_vars))


def rows_as_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None
) -> list[dict[str, Any]]:
    """A query's rows as {column: value}, the result read to the end."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_databases() where database_name = 'payouts'"
        ).fetchone()[0]
    )


def require_marts(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Refuse, in one line, a serving copy written before these marts were served."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    }
    missing = [name for name in names if name not in present]
    if missing:
        raise NoServingCopy(
            f"the published marts were built before {', '.join(f'marts.{m}' for m in missing)} "
            "existed: run `rewards run` to publish them again"
        )
