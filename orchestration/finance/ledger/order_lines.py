"""What changed behind a payout run's line: the order lines each run was computed from (D48).

A clawback that reads only "clawback −346" cannot be defended to the payee. So every payout run
keeps, for each account with a rule-based line in it (initial, increase, clawback), that
account's order lines in the baseline period and the window as the serving copy had them
(`ledger.run_order_lines`: the order, its period, status, amount, refund, whether and why it
counted, and the GMV it counted). What changed behind a later line is then the difference
between the account's lines in that run and in the last approved run that paid it: which
orders, and how much GMV. Against the serving copy's lines, the same difference says what the
next publish would pay or claw back.

The lines are on the digest chain in two levels, so that checking them costs what is read:
each account's lines of a run have a SHA-256 (`ledger.run_order_digests`), and the run's
`published` event digests the list of those (one short line per account, checked with the whole
chain by every command). The lines themselves are checked against their account's digest by the
readers that show them -- explain for its account, the statements for each batch -- and all of
them by `rewards ledger`, the audit listing. Runs written before this kept no lines: their
changes cannot be itemised, and the readers say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from .schema import LedgerError, existing_tables

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
    relation) of the accounts in `accounts` (a relation with `account_id`), and each account's
    digest of them; returns how many lines."""
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
    con.execute(
        f"insert into ledger.run_order_digests {_account_digests('ledger', f'= {int(run_id)}')}"
    )
    (count,) = con.execute(
        "select count(*) from ledger.run_order_lines where payout_run_id = ?", [run_id]
    ).fetchone()
    return count


def _account_digests(prefix: str, runs: str, accounts: str = "") -> str:
    """Per run and account: the number of its lines and their SHA-256 (a canonical text of
    every column, by order id), for the runs `runs` (a SQL condition on payout_run_id) and, with
    `accounts`, only the accounts of that relation."""
    text = ", ".join(f"coalesce(cast({c} as varchar), '\\N')" for c in SNAPSHOT_COLUMNS)
    only = f"and account_id in (select account_id from {accounts})" if accounts else ""
    return f"""
        select payout_run_id, account_id, count(*) as order_lines,
            sha256(string_agg(concat_ws(chr(9), {text}), chr(10) order by order_id)) as sha256
        from {prefix}.run_order_lines
        where payout_run_id {runs} {only}
        group by payout_run_id, account_id
    """


def lines_digest(
    con: duckdb.DuckDBPyConnection, prefix: str, run_id: int | None = None
) -> dict[int, str]:
    """Each payout run's digest of its accounts' order-line digests (one run's with `run_id`):
    what its `published` event covers. Runs that kept no lines are absent."""
    if "run_order_digests" not in existing_tables(con, prefix):
        return {}
    only = "" if run_id is None else f"where payout_run_id = {int(run_id)}"
    return dict(
        con.execute(f"""
        select payout_run_id,
            sha256(string_agg(concat_ws(chr(9), account_id, order_lines, sha256), chr(10)
                order by account_id))
        from {prefix}.run_order_digests {only}
        group by payout_run_id
    """).fetchall()
    )


def verify_lines(
    con: duckdb.DuckDBPyConnection, prefix: str, accounts: list[str] | None = None
) -> None:
    """Check the kept order lines (of `accounts` only, or all) against their account's digest;
    LedgerError naming the first run and account whose lines no longer match."""
    if "run_order_digests" not in existing_tables(con, prefix):
        return
    relation = ""
    if accounts is not None:
        con.execute(
            "create or replace temp table verified_accounts as "
            "select unnest(cast(? as varchar[])) as account_id",
            [accounts],
        )
        relation = "verified_accounts"
    recorded = f"select * from {prefix}.run_order_digests" + (
        f" where account_id in (select account_id from {relation})" if relation else ""
    )
    wrong = con.execute(f"""
        with recorded as ({recorded}),
        now as ({_account_digests(prefix, "is not null", relation)})
        select coalesce(recorded.payout_run_id, now.payout_run_id),
            coalesce(recorded.account_id, now.account_id)
        from recorded
        full outer join now
            on recorded.payout_run_id = now.payout_run_id
            and recorded.account_id = now.account_id
        where recorded.sha256 is distinct from now.sha256
            or recorded.order_lines is distinct from now.order_lines
        order by 1, 2
        limit 1
    """).fetchone()
    if wrong is not None:
        raise LedgerError(
            f"the order lines payout run {wrong[0]} kept for {wrong[1]} no longer match their "
            "digest: ledger rows were changed or deleted"
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
    con: duckdb.DuckDBPyConnection,
    prefix: str,
    compared: list[tuple[str, int, int]],
    now: str | None = None,
) -> list[tuple[str, int, OrderChange]]:
    """For each (account, run, earlier run), the account's orders whose counted GMV differs
    between the earlier run's kept lines and the run's -- or, with `now` (a relation of order
    lines: the serving copy's), those lines -- largest change first: (account, run, change)."""
    if not compared:
        return []
    con.execute(
        "create or replace temp table compared_runs as select * from (select "
        "unnest(cast(? as varchar[])) as account_id, unnest(cast(? as integer[])) as run_id, "
        "unnest(cast(? as integer[])) as since_run)",
        [[c[0] for c in compared], [c[1] for c in compared], [c[2] for c in compared]],
    )
    columns = ", ".join(f"l.{c}" for c in SNAPSHOT_COLUMNS if c != "account_id")
    later = (
        f"""inner join {prefix}.run_order_lines as l
                on l.payout_run_id = c.run_id and l.account_id = c.account_id"""
        if now is None
        else f"inner join ({now}) as l on l.account_id = c.account_id and l.period in {PERIODS}"
    )
    rows = con.execute(f"""
        with before as (
            select c.account_id, c.run_id, l.order_id, l.period, l.created_day, l.counted_gmv
            from compared_runs as c
            inner join {prefix}.run_order_lines as l
                on l.payout_run_id = c.since_run and l.account_id = c.account_id
        ),
        now as (
            select c.account_id, c.run_id, {columns}
            from compared_runs as c
            {later}
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
