"""The one way a command appends to the ledger: a single transaction on the ledger file, with
every table present, the whole digest chain verified and held against the ledger's anchor first,
and the history's views defined; committed when the command's block ends, rolled back --
nothing appended -- if it raises. After the commit, the anchor gains a line with the new head
(anchor.py, D45)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ...duckdb_transaction import transaction
from .anchor import Anchor, catch_up, check, new_line, refuse_if_missing
from .chain import chain_tail, verify_chain
from .files import LedgerDamaged, connect_for_append, is_damage, unavailable
from .history import define_views
from .schema import LedgerError, create_tables


class NothingToAppend(Exception):  # noqa: N818 -- a way out of the block, not an error
    """Raised inside `appending` to leave the ledger exactly as it was."""


@dataclass
class Appending:
    """What a command appends with: the connection in its transaction, the head digest to chain
    its first record to (None: an empty ledger) and what it did, for the anchor's line."""

    con: duckdb.DuckDBPyConnection
    head: str | None
    action: str = ""


def no_ledger(ledger: Path) -> LedgerError:
    return LedgerError(
        f"no ledger at {ledger}: start one with `rewards ledger init --by NAME` (once per "
        "warehouse; publish never starts one by itself)"
    )


@contextlib.contextmanager
def appending(ledger: Path, *, starting: bool = False) -> Iterator[Appending]:
    """Append to the ledger at `ledger`, which must exist (`starting`: `rewards ledger init`,
    which creates it)."""
    if not refuse_if_missing(ledger) and not starting:
        raise no_ledger(ledger)
    anchor = Anchor(ledger)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    try:  # refuse before writing the ledger rather than leave its anchor behind it
        anchor.check_writable()
    except OSError as exc:
        refusal = unavailable(ledger, exc, writing=True)
        raise refusal or LedgerError(
            f"the ledger's anchor {anchor.path} cannot be written ({exc.strerror or exc}): "
            "nothing was written; run the command where the ledger and its anchor are writable"
        ) from exc
    con = connect_for_append(ledger)
    try:
        try:
            with transaction(con):
                create_tables(con)
                chain = verify_chain(con)
                if starting:
                    ledger_id = None  # the start record, appended in this block
                else:
                    state = check(ledger, chain, anchor.lines())
                    if state == "empty":
                        raise no_ledger(ledger)
                    catch_up(ledger, chain, state, reader=False)
                    ledger_id = chain[0]
                define_views(con, "ledger")
                step = Appending(con, chain[-1] if chain else None)
                yield step
                head, records = chain_tail(con)
        except duckdb.Error as exc:
            if is_damage(exc):
                raise LedgerDamaged(
                    f"the ledger {ledger} is damaged ({str(exc).splitlines()[0]}): nothing was "
                    f"written; restore the file from a backup (its anchor {anchor.path} names "
                    "the head digest the copy must have)"
                ) from exc
            raise
        # committed: the anchor records the new head, before another writer can take the file
        anchor.append(new_line(ledger, ledger_id or head, head, records, step.action))
    finally:
        con.close()
