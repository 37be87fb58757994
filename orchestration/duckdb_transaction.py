"""One DuckDB transaction as a block: committed when the block ends, rolled back if it raises."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """`begin` ... `commit`; on any exception `rollback` (a failure to roll back, on a connection
    DuckDB already aborted, does not hide the exception) and re-raise."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        roll_back(con)
        raise


def roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """`rollback` while an exception is on its way out: where DuckDB has no transaction left
    to roll back (a Ctrl-C that came during `commit`, or after an earlier `rollback`), its
    error would replace the one that matters -- an interrupted run would read as a failed one."""
    with contextlib.suppress(duckdb.Error):
        con.execute("rollback")
