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
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
