"""`rewards approve` and `rewards reject`: the second pair of eyes on a pending payout run.

A run is approved by someone other than the person who published it, and other than anyone who
recorded an adjustment it carries (four eyes on every point it pays, D35). Approving or
rejecting appends an event to the digest chain; nothing is updated. A rejected run pays
nothing, and the adjustments it carried are rejected with it: record them again to pay them.
The names are declarations (`--by`), recorded with the OS user and host that made them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ...serving_layout import local_now
from .appending import appending
from .events import append_event
from .history import no_such_run
from .schema import Actor, LedgerError, one, same_person


@dataclass(frozen=True)
class Decision:
    payout_run_id: int
    state: str  # approved / rejected
    points: int  # the run's net points
    paid_total: int  # what the approved runs pay, after this decision
    published_by: str


def approve(ledger: Path, run_id: int, actor: Actor) -> Decision:
    return _decide(ledger, run_id, actor, "approved", None)


def reject(ledger: Path, run_id: int, actor: Actor, reason: str) -> Decision:
    reason = " ".join(reason.split())
    if not reason:
        raise LedgerError("--reason must say why the run is rejected (it is kept in the ledger)")
    return _decide(ledger, run_id, actor, "rejected", reason)


def _decide(ledger: Path, run_id: int, actor: Actor, event: str, reason: str | None) -> Decision:
    with appending(ledger) as step:
        con, head = step.con, step.head
        run = one(
            con,
            "select state, published_by, decided_by, is_first_version, points, rule_vars "
            "from ledger_runs where payout_run_id = ?",
            [run_id],
        )
        if run is None:
            raise no_such_run(con, run_id)
        state, published_by, decided_by, first_version, points, rule_vars = run
        if state != "pending":
            raise LedgerError(
                f"payout run {run_id} is not pending: "
                + (
                    "it was published before approvals were recorded and counts as approved"
                    if first_version
                    else f"it was {state} by {decided_by}"
                )
            )
        if event == "approved":
            if same_person(actor.name, published_by):
                raise LedgerError(
                    f"payout run {run_id} was published by {published_by}: someone else must "
                    "approve it (four eyes)"
                )
            for adjustment_id, requested_by in con.execute(
                "select adjustment_id, requested_by from ledger_adjustments "
                "where payout_run_id = ? order by adjustment_id",
                [run_id],
            ).fetchall():
                if same_person(actor.name, requested_by):
                    raise LedgerError(
                        f"payout run {run_id} carries adjustment {adjustment_id}, recorded by "
                        f"{requested_by}: someone else must approve it (four eyes)"
                    )
        append_event(
            con,
            run_id,
            event,
            actor,
            head,
            at=local_now(json.loads(rule_vars)["timezone"]),
            reason=reason,
        )
        (paid,) = one(
            con,
            "select coalesce(sum(points) filter (where state = 'approved'), 0) from ledger_runs",
        )
        step.action = f"payout run {run_id} {event} by {actor.name}"
    return Decision(run_id, event, points, paid, published_by)
