"""`rewards ledger`: the payout runs as a table -- state, who published, who decided, points,
what is paid -- the adjustments waiting for the next publish, and the verified head digest."""

from __future__ import annotations

from pathlib import Path

from .anchor import Anchor
from .history import open_ledger
from .schema import existing_tables


def ledger_lines(ledger: Path, serving_copy: Path | None = None) -> list[str]:
    """The listing, after verifying the whole digest chain (an edited ledger is refused); with
    a serving copy, each closed month's true-up against today's accrual (D50)."""
    with open_ledger(ledger) as (con, head):
        runs = con.execute(
            """
            select payout_run_id, state, published_at, published_by, decided_by,
                is_first_version, accounts_adjusted, points, paid_total, decision_reason
            from ledger_runs order by payout_run_id
        """
        ).fetchall()
        (waiting, waiting_points) = con.execute(
            "select count(*), coalesce(sum(points), 0) from ledger_adjustments "
            "where state = 'recorded'"
        ).fetchall()[0]
        closes = (
            con.execute(
                "select month, closed_by, closed_at, points_to_date, accrual_date "
                "from payouts.ledger.month_closes order by month"
            ).fetchall()
            if "month_closes" in existing_tables(con, "payouts.ledger")
            else []
        )
        started = (
            con.execute(
                "select started_by, started_at from payouts.ledger.ledger_starts"
            ).fetchone()
            if "ledger_starts" in existing_tables(con, "payouts.ledger")
            else None
        )
    anchor = Anchor(ledger)
    anchored = anchor.lines()
    # who decided: a name, or, for a run of the first ledger version, that it was paid then
    deciders = [r[4] or ("(first ledger)" if r[5] else "-") for r in runs]
    width = max([len("published by"), *(len(r[3]) for r in runs)])
    decided_width = max([len("decided by"), *(len(d) for d in deciders)])
    lines = [
        f"run  state     published at               {'published by':<{width}}  "
        f"{'decided by':<{decided_width}}  accounts      points    paid total"
    ]
    for (run_id, state, at, by, _, _, accounts, points, paid, why), decided_text in zip(
        runs, deciders, strict=True
    ):
        lines.append(
            f"{run_id:>3}  {state:<8}  {at:<25}  {by:<{width}}  {decided_text:<{decided_width}}  "
            f"{accounts:>8,}  {points:>+10,}  {paid:>12,}"
            + (f"  rejected: {why}" if state == "rejected" else "")
        )
    lines.append(
        "runs written before approvals were recorded count as approved: they were paid"
        if any(r[5] for r in runs)
        else ""
    )
    if waiting:
        lines.append(
            f"adjustments waiting for the next publish: {waiting:,} ({waiting_points:+,} points)"
        )
    true_ups = _true_ups(serving_copy, ledger) if closes else {}
    for month, by, at, points, accrual_date in closes:
        lines.append(
            f"{month} closed by {by} at {at}: {points:,} points to date booked (the accrual of "
            f"{accrual_date or 'no counted order yet'})" + true_ups.get(month, "")
        )
    lines.append(
        f"ledger started by {started[0]} at {started[1]}"
        if started
        else "ledger started before `rewards ledger init` existed (its first payout run is its "
        "first record)"
    )
    if anchored and anchored[-1].head == head:
        last = anchored[-1]
        lines.append(
            f"anchor {anchor.path}: matches ({last.records:,} records; identity "
            f"{last.ledger_id[:16]}…)"
        )
    else:
        lines.append(f"anchor {anchor.path}: not written yet (a read-only share)")
    lines.append(f"digest chain verified; head {head or '(empty)'}")
    return [line for line in lines if line]


def _true_ups(serving_copy: Path | None, ledger: Path) -> dict[str, str]:
    """Per closed month, today's figure for the same day and the true-up, from the serving copy
    (none: no serving copy yet)."""
    from ..closes import month_closes
    from ..serving import open_serving_copy
    from .history import read_ledger

    if serving_copy is None or not serving_copy.exists():
        return {}
    with open_serving_copy(serving_copy, ledger) as con:
        read_ledger(con)
        return {
            c["month"]: f"; today {c['today_points']:,} (the accrual of "
            f"{c['today_accrual_date'] or 'no counted order yet'}): true-up "
            f"{c['true_up_points']:+,}"
            for c in month_closes(con)
        }
