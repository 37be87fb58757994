"""What changed behind a payout line: for an increase or a clawback, the orders whose counted GMV
moved since the last approved run that paid the account by the rules, and by how much (D48);
and the same between that run and the serving copy now, behind what the next publish would pay.
Read by `rewards explain` and the statements; every figure comes from the ledger's kept order
lines (ledger/order_lines.py) and the serving copy's `marts.reward_order_lines`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

from .ledger.order_lines import OrderChange, changes, has_lines, run_lines

PREFIX = "payouts.ledger"
NOW = ("select * from marts.reward_order_lines", [])


@dataclass
class Behind:
    since_run: int  # the approved run compared with
    recorded: bool  # False: a run written before order lines were kept; nothing itemised
    orders: list[OrderChange] = field(default_factory=list)

    def change(self, period: str) -> Decimal:
        return sum((o.after - o.before for o in self.orders if o.period == period), Decimal("0.00"))


def _last_paid_run(con: duckdb.DuckDBPyConnection, account_id: str, before: int | None) -> int:
    (run_id,) = con.execute(
        """
        select max(payout_run_id) from ledger_lines
        where account_id = ? and state = 'approved' and entry_type <> 'adjustment'
            and payout_run_id < coalesce(?, 2147483647)
    """,
        [account_id, before],
    ).fetchone()
    return run_id


def behind_line(con: duckdb.DuckDBPyConnection, account_id: str, run_id: int) -> Behind | None:
    """What changed behind the account's rule-based line in payout run `run_id` (None: it is the
    account's first paid line, nothing to compare)."""
    since = _last_paid_run(con, account_id, run_id)
    if since is None:
        return None
    if not (has_lines(con, PREFIX, since) and has_lines(con, PREFIX, run_id)):
        return Behind(since, recorded=False)
    after, params = run_lines(PREFIX, run_id)
    return Behind(since, True, changes(con, PREFIX, account_id, since, after, params))


def behind_now(con: duckdb.DuckDBPyConnection, account_id: str) -> Behind | None:
    """What changed in the serving copy's order lines since the last approved run that paid the
    account (None: none has)."""
    since = _last_paid_run(con, account_id, None)
    if since is None:
        return None
    if not has_lines(con, PREFIX, since):
        return Behind(since, recorded=False)
    sql, params = NOW
    return Behind(since, True, changes(con, PREFIX, account_id, since, sql, params))
