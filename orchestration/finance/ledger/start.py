"""`rewards ledger init --by NAME`: starting a warehouse's ledger is an explicit act, done once
(D45).

`publish` never creates a ledger, so a ledger file that went missing can no longer be replaced by
an empty one that pays everyone again. `ledger init` is refused where the warehouse already had a
ledger: its anchor records one, or the ledger file holds records. It appends the ledger's first
record -- who started it, from which OS user and host, when, and a random nonce that makes this
ledger's identity (its first digest) its own -- and the anchor's first line. The first publish
is still payout run 1.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ...rule_vars import rule_var_defaults
from ...serving_layout import local_now
from .anchor import Anchor
from .appending import appending
from .chain import record_digest, start_record, verify_chain
from .files import attach_read_only
from .schema import Actor, LedgerError, existing_tables


@dataclass(frozen=True)
class Started:
    ledger_id: str  # the start record's digest: the ledger's identity
    started_at: str
    anchor: Path


def _records(ledger: Path) -> int:
    """The records a ledger file already holds (0 for one with no ledger tables)."""
    con = duckdb.connect()
    try:
        attach_read_only(con, ledger, "existing")
        if "payout_runs" not in existing_tables(con, "existing.ledger"):
            return 0
        return len(verify_chain(con, "existing.ledger"))
    finally:
        con.close()


def start_ledger(ledger: Path, actor: Actor) -> Started:
    anchor = Anchor(ledger)
    lines = anchor.lines()
    if lines:
        last = lines[-1]
        state = "is there" if ledger.exists() else "is missing: restore it rather than start anew"
        raise LedgerError(
            f"this warehouse already has a ledger: its anchor {anchor.path} records ledger "
            f"{last.ledger_id[:16]}… with {last.describe()}; the file {ledger} {state}"
        )
    if ledger.exists():
        records = _records(ledger)
        if records:
            raise LedgerError(
                f"a ledger already exists at {ledger} ({records:,} records): it is this "
                "warehouse's ledger; nothing was written"
            )
    # every instant of the ledger is written in the programme's time zone (R1)
    started_at = local_now(rule_var_defaults()["timezone"])
    with appending(ledger, starting=True) as step:
        record = {
            "ledger_nonce": str(uuid.uuid4()),
            "started_by": actor.name,
            "os_user": actor.os_user,
            "host": actor.host,
            "started_at": started_at,
        }
        digest = record_digest(None, start_record(record))
        step.con.execute(
            "insert into ledger.ledger_starts values (?, ?, ?, ?, ?, ?, ?)",
            [*record.values(), None, digest],
        )
        step.action = f"ledger started by {actor.name}"
    return Started(digest, started_at, anchor.path)
