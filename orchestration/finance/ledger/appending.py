"""The one way a command appends to the ledger: a single transaction on the ledger file, with
every table present, the whole digest chain verified first, and the history's views defined;
committed when the command's block ends, rolled back -- nothing appended -- if it raises."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ...duckdb_transaction import transaction
from .chain import verify
from .history import define_views
from .schema import connect_ledger, create_tables


class NothingToAppend(Exception):  # noqa: N818 -- a way out of the block, not an error
    """Raised inside `appending` to leave the ledger exactly as it was."""


@contextlib.contextmanager
def appending(ledger: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, str | None]]:
    """The ledger's connection in a transaction, and the digest of its last record (None: an
    empty ledger), for records to chain to."""
    con = connect_ledger(ledger)
    try:
        with transaction(con):
            create_tables(con)
            head = verify(con)
            define_views(con, "ledger")
            yield con, head
    finally:
        con.close()
