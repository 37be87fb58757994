"""`rewards adjust`: a manual adjustment of an account's points -- a dispute's outcome, goodwill
-- with its reason, an optional reference (the ticket) and who asked (D37).

An adjustment is recorded at once and paid by the next payout run, which carries it as a line of
its own and is approved or rejected with it. An account's paid total is then its rule-based
points plus its approved adjustments; later publishes compute rule-based differences only, so
a clawback never takes an adjustment back.

Refused, each with one line: an account that is not enrolled in the published marts, zero
points, more points either way than the programme's cap per account (R11, D47), an empty
reason, and an adjustment that would take the account's total below zero (its reward now plus
every adjustment not rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...serving_layout import local_now
from ..serving import open_serving_copy, read_build_info
from .appending import appending
from .chain import adjustment_record, record_digest
from .publish import pending_run_refusal
from .schema import MAX_ADJUSTMENT_POINTS, Actor, LedgerError, one


def _out_of_range(points: int, bound: int, what: str) -> str:
    return (
        f"--points {points:+,} is out of range: an adjustment is at most {bound:,} points either "
        f"way, what {what}; nothing was recorded"
    )


@dataclass(frozen=True)
class Adjustment:
    adjustment_id: int
    account_id: str
    points: int
    reward_points: int  # the account's rule-based reward in the published marts
    adjusted_total: int  # its reward plus every adjustment not rejected, this one included
    waits_for: str | None  # the pending run it waits behind, if any


def adjust(
    serving_copy: Path,
    ledger: Path,
    account_id: str,
    points: int,
    reason: str,
    actor: Actor,
    reference: str | None = None,
) -> Adjustment:
    if points == 0:
        raise LedgerError("--points must not be 0: an adjustment of nothing is not recorded")
    if not -MAX_ADJUSTMENT_POINTS <= points <= MAX_ADJUSTMENT_POINTS:
        raise LedgerError(_out_of_range(points, MAX_ADJUSTMENT_POINTS, "any adjustment may have"))
    reason = " ".join(reason.split())
    if not reason:
        raise LedgerError("--reason must say why (the payee reads it on the statement)")
    reference = " ".join((reference or "").split()) or None
    with open_serving_copy(serving_copy) as served:
        build = read_build_info(served)
        row = one(
            served,
            "select reward_points from marts.account_rewards where account_id = ?",
            [account_id],
        )
    if row is None:
        raise LedgerError(
            f"{account_id} is not an enrolled account in the published marts "
            f"(run {build.dagster_run_id}): only enrolled accounts are paid (R10)"
        )
    (reward_points,) = row
    cap = int(build.rule_vars["reward_cap_points"])
    if abs(points) > cap:
        raise LedgerError(
            _out_of_range(points, cap, "the programme's cap per account (R11) allows")
        )
    with appending(ledger) as step:
        con, head = step.con, step.head
        (adjusted,) = one(
            con,
            "select coalesce(sum(points), 0) from ledger_adjustments "
            "where account_id = ? and state not in ('rejected', 'void')",
            [account_id],
        )
        total = reward_points + adjusted + points
        if total < 0:
            raise LedgerError(
                f"{account_id}: {points:+,} points would take its total below zero "
                f"(reward {reward_points:,}, adjustments {adjusted:+,}): at most "
                f"{-(reward_points + adjusted):+,}"
            )
        (adjustment_id,) = one(
            con, "select coalesce(max(adjustment_id), 0) + 1 from ledger.adjustments"
        )
        record = {
            "adjustment_id": adjustment_id,
            "account_id": account_id,
            "points": points,
            "reason": reason,
            "reference": reference,
            "requested_by": actor.name,
            "os_user": actor.os_user,
            "host": actor.host,
            "requested_at": local_now(build.rule_vars["timezone"]),
        }
        digest = record_digest(head, adjustment_record(record))
        con.execute(
            "insert into ledger.adjustments values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*record.values(), head, digest],
        )
        waits_for = pending_run_refusal(con, "publishing again")
        step.action = f"adjustment {adjustment_id} recorded by {actor.name}"
    return Adjustment(adjustment_id, account_id, points, reward_points, total, waits_for)
