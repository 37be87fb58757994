"""What changed behind a payout run's line: the order lines each run was computed from (D48).

A clawback that reads only "clawback −346" cannot be defended to the payee. So every payout run
keeps, for each account with a rule-based line in it (initial, increase, clawback), that
account's order lines in the baseline period and the window as the serving copy had them
(`ledger.run_order_lines`: the order, its period, status, amount, refund, whether and why it
counted, and the GMV it counted). What changed behind a later line is then the difference
between the account's lines in that run and in the last approved run that paid it: which
orders, and how much GMV. Against the serving copy's lines, the same difference says what the
next publish would pay or claw back.

The lines are on the digest chain: the run's `published` event digests them (in 256 buckets by
the first two hex digits of each order's SHA-256, so that no single string holds every line).
Runs written before this kept no lines: their changes cannot be itemised, and the readers say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from .schema import existing_tables

SNAPSHOT_COLUMNS = (
    "account_id",
    "order_id",
    "period",
    "created_day",
    "status",
    "amount",
    "refunded_amount",
    "line_status",
    "excluded_reason",
    "counted_gmv",
)
PERIODS = "('baseline', 'window')"


def keep_lines(con: duckdb.DuckDBPyConnection, run_id: int, served: str, accounts: str) -> int:
    """Insert, for payout run `run_id`, the order lines (in `served`, a reward_order_lines
    relation) of the accounts in `accounts` (a relation with `account_id`); returns how many."""
    columns = ", ".join(SNAPSHOT_COLUMNS)
    con.execute(
        f"""
        insert into ledger.run_order_lines (payout_run_id, {columns})
        select ?, {columns} from {served}
        where period in {PERIODS}
            and account_id in (select account_id from {accounts})
        """,
        [run_id],
    )
    (count,) = con.execute(
        "select count(*) from ledger.run_order_lines where payout_run_id = ?", [run_id]
    ).fetchone()
    return count


def lines_digest(
    con: duckdb.DuckDBPyConnection, prefix: str, run_id: int | None = None
) -> dict[int, str]:
    """The SHA-256 of each payout run's order lines (one run's with `run_id`); runs without
    lines are absent."""
    if "run_order_lines" not in existing_tables(con, prefix):
        return {}
    text = ", ".join(
        f"coalesce(cast({c} as varchar), '\\N')" for c in SNAPSHOT_COLUMNS if c != "order_id"
    )
    only = "" if run_id is None else f"where payout_run_id = {int(run_id)}"
    return dict(
        con.execute(f"""
        with lines as (
            select
                payout_run_id,
                substr(sha256(order_id), 1, 2) as bucket,
                order_id,
                concat_ws(chr(9), order_id, {text}) as line
            from {prefix}.run_order_lines {only}
        ),
        buckets as (
            select payout_run_id, bucket,
                sha256(string_agg(line, chr(10) order by order_id, line)) as digest
            from lines group by payout_run_id, bucket
        )
        select payout_run_id, sha256(string_agg(bucket || digest, '' order by bucket))
        from buckets group by payout_run_id
    """).fetchall()
    )


@dataclass(frozen=True)
class OrderChange:
    order_id: str
    period: str
    created_day: object
    before: Decimal  # the GMV it counted then (0: not counted, or not a line then)
    after: Decimal  # the GMV it counts now
    status: str | None  # its status now (None: no line now)
    amount: Decimal | None
    refunded_amount: Decimal | None
    excluded_reason: str | None


def kept_runs(con: duckdb.DuckDBPyConnection, prefix: str) -> list[int]:
    """The payout runs that kept their order lines (none before issue 30)."""
    if "run_order_lines" not in existing_tables(con, prefix):
        return []
    return [
        run_id
        for (run_id,) in con.execute(
            f"select distinct payout_run_id from {prefix}.run_order_lines"
        ).fetchall()
    ]


def changes_between(
    con: duckdb.DuckDBPyConnection, prefix: str, compared: list[tuple[str, int, int]]
) -> list[tuple[str, int, OrderChange]]:
    """For each (account, run, earlier run), the account's orders whose counted GMV differs
    between the two runs' kept lines, largest change first: (account, run, change)."""
    if not compared:
        return []
    con.execute(
        "create or replace temp table compared_runs as select * from (select "
        "unnest(cast(? as varchar[])) as account_id, unnest(cast(? as integer[])) as run_id, "
        "unnest(cast(? as integer[])) as since_run)",
        [[c[0] for c in compared], [c[1] for c in compared], [c[2] for c in compared]],
    )
    rows = con.execute(f"""
        with before as (
            select c.account_id, c.run_id, l.order_id, l.period, l.created_day, l.counted_gmv
            from compared_runs as c
            inner join {prefix}.run_order_lines as l
                on l.payout_run_id = c.since_run and l.account_id = c.account_id
        ),
        now as (
            select c.account_id, c.run_id, l.*
            from compared_runs as c
            inner join {prefix}.run_order_lines as l
                on l.payout_run_id = c.run_id and l.account_id = c.account_id
        )
        select
            coalesce(now.account_id, before.account_id),
            coalesce(now.run_id, before.run_id),
            coalesce(now.order_id, before.order_id),
            coalesce(now.period, before.period),
            coalesce(now.created_day, before.created_day),
            coalesce(before.counted_gmv, 0),
            coalesce(now.counted_gmv, 0),
            now.status,
            now.amount,
            now.refunded_amount,
            now.excluded_reason
        from before
        full outer join now
            on before.account_id = now.account_id and before.run_id = now.run_id
            and before.order_id = now.order_id
        where coalesce(before.counted_gmv, 0) <> coalesce(now.counted_gmv, 0)
        order by 1, 2, abs(coalesce(now.counted_gmv, 0) - coalesce(before.counted_gmv, 0)) desc, 3
    """).fetchall()
    return [(row[0], row[1], OrderChange(*row[2:])) for row in rows]


def changes(
    con: duckdb.DuckDBPyConnection,
    prefix: str,
    account_id: str,
    before_run: int,
    after: str,
    after_params: list,
) -> list[OrderChange]:
    """The account's orders whose counted GMV differs between payout run `before_run` and
    `after` (a relation of order lines; `after_params` its parameters), largest change first."""
    columns = ", ".join(SNAPSHOT_COLUMNS)
    rows = con.execute(
        f"""
        with before as (
            select order_id, period, created_day, counted_gmv
            from {prefix}.run_order_lines
            where payout_run_id = ? and account_id = ?
        ),
        now as (
            select {columns} from ({after}) where account_id = ? and period in {PERIODS}
        )
        select
            coalesce(now.order_id, before.order_id),
            coalesce(now.period, before.period),
            coalesce(now.created_day, before.created_day),
            coalesce(before.counted_gmv, 0),
            coalesce(now.counted_gmv, 0),
            now.status,
            now.amount,
            now.refunded_amount,
            now.excluded_reason
        from before
        full outer join now on before.order_id = now.order_id
        where coalesce(before.counted_gmv, 0) <> coalesce(now.counted_gmv, 0)
        order by abs(coalesce(now.counted_gmv, 0) - coalesce(before.counted_gmv, 0)) desc, 1
        """,
        [before_run, account_id, *after_params, account_id],
    ).fetchall()
    return [OrderChange(*row) for row in rows]
