"""What changed behind a payout line: for an increase or a clawback, the orders whose counted GMV
moved since the last approved run that paid the account by the rules, and by how much (D48);
and the same between that run and the serving copy now, behind what the next publish would pay.
Read by `rewards explain` and the statements; every figure comes from the ledger's kept order
lines (ledger/order_lines.py) and the serving copy's `marts.reward_order_lines`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from .ledger.order_lines import OrderChange, changes_between, kept_runs

PREFIX = "payouts.ledger"


@dataclass
class Behind:
    since_run: int  # the approved run compared with
    recorded: bool  # False: a run written before order lines were kept; nothing itemised
    orders: list[OrderChange] = field(default_factory=list)

    def change(self, period: str) -> Decimal:
        return sum((o.after - o.before for o in self.orders if o.period == period), Decimal("0.00"))


def behind_lines(
    con: duckdb.DuckDBPyConnection, lines: list[tuple[str, int]]
) -> dict[tuple[str, int], Behind | None]:
    """What changed behind each (account, payout run) rule-based line: since the last approved
    run before it that paid the account by the rules (None: the account's first such line),
    in a few set-wise queries whatever the number of lines (the statements ask for a batch)."""
    if not lines:
        return {}
    con.execute(
        "create or replace temp table behind_asked as select * from "
        "(select unnest(cast(? as varchar[])) as account_id, "
        "unnest(cast(? as integer[])) as payout_run_id)",
        [[a for a, _ in lines], [r for _, r in lines]],
    )
    since = {
        (account, run): previous
        for account, run, previous in con.execute("""
            select asked.account_id, asked.payout_run_id, (
                select max(paid.payout_run_id) from ledger_lines as paid
                where paid.account_id = asked.account_id and paid.state = 'approved'
                    and paid.entry_type <> 'adjustment'
                    and paid.payout_run_id < asked.payout_run_id
            )
            from behind_asked as asked
        """).fetchall()
    }
    kept = set(kept_runs(con, PREFIX))
    found: dict[tuple[str, int], Behind | None] = {}
    for (account, run), previous in since.items():
        if previous is None:
            found[(account, run)] = None
        else:
            found[(account, run)] = Behind(previous, previous in kept and run in kept)
    compared = [
        (account, run, behind.since_run)
        for (account, run), behind in found.items()
        if behind is not None and behind.recorded
    ]
    for account, run, change in changes_between(con, PREFIX, compared):
        found[(account, run)].orders.append(change)
    return found


def _last_paid_run(con: duckdb.DuckDBPyConnection, account_id: str) -> int | None:
    (run_id,) = con.execute(
        """
        select max(payout_run_id) from ledger_lines
        where account_id = ? and state = 'approved' and entry_type <> 'adjustment'
    """,
        [account_id],
    ).fetchone()
    return run_id


def behind_line(con: duckdb.DuckDBPyConnection, account_id: str, run_id: int) -> Behind | None:
    """What changed behind the account's rule-based line in payout run `run_id` (None: it is the
    account's first paid line, nothing to compare)."""
    return behind_lines(con, [(account_id, run_id)])[(account_id, run_id)]


def behind_now(con: duckdb.DuckDBPyConnection, account_id: str) -> Behind | None:
    """What changed in the serving copy's order lines since the last approved run that paid the
    account (None: none has)."""
    since = _last_paid_run(con, account_id)
    if since is None:
        return None
    if since not in kept_runs(con, PREFIX):
        return Behind(since, recorded=False)
    compared = [(account_id, 0, since)]  # run 0: the serving copy's lines now
    found = changes_between(con, PREFIX, compared, now="select * from marts.reward_order_lines")
    return Behind(since, True, [change for _, _, change in found])
