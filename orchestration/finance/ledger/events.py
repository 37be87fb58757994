"""Appending a payout run's events (published, approved, rejected) to the digest chain."""

from __future__ import annotations

from typing import Any

import duckdb

from .chain import event_record, record_digest
from .schema import Actor, one


def append_event(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    event: str,
    actor: Actor,
    previous: str,
    *,
    at: str,
    reason: str | None = None,
    run: dict[str, Any] | None = None,
    inputs_sha256: str | None = None,
    rewards_sha256: str | None = None,
    order_lines_sha256: str | None = None,
) -> str:
    """Append one event of payout run `run_id`, chained after the record whose digest is
    `previous`; returns its own digest. A `published` event also digests the run's header
    (`run`), its input files and its rewards."""
    (event_id,) = one(con, "select coalesce(max(event_id), 0) + 1 from ledger.run_events")
    row = {
        "event_id": event_id,
        "payout_run_id": run_id,
        "event": event,
        "declared_by": actor.name,
        "os_user": actor.os_user,
        "host": actor.host,
        "event_at": at,
        "reason": reason,
    }
    digest = record_digest(
        previous, event_record(row, run, inputs_sha256, rewards_sha256, order_lines_sha256)
    )
    con.execute(
        "insert into ledger.run_events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*row.values(), previous, digest],
    )
    return digest
