"""What the statements show, read in a few set-wise queries from the serving copy and the
ledger -- never one query per account: the accounts are read in batches of `BATCH` (a few
passes over the order lines for 6,001 accounts of a 10M-order warehouse, not 6,001 of them;
docs/benchmarks.md, "Statements"), so memory stays bounded whatever the number of accounts.

Every number is a column the marts or the ledger wrote; nothing here computes a rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from ...serving_layout import read_program_summary
from ..changes import behind_lines
from ..closes import month_closes
from ..ledger.order_lines import verify_lines
from ..serving import rows_as_dicts

# the order lines listed per account and reason (the rest are counted, and named in the
# order-lines mart): enough to drill into, few enough that a statement stays readable
ORDERS_LISTED = 25
DAYS_LISTED = 60
BATCH = 500


@dataclass
class AccountStatement:
    account_id: str
    reward: dict[str, Any]
    eligibility: dict[str, Any]
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)  # baseline/window totals
    excluded: list[dict[str, Any]] = field(default_factory=list)  # per reason, with orders
    counted_orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    over_quota_days: list[dict[str, Any]] = field(default_factory=list)
    quota_totals: dict[str, Any] = field(default_factory=dict)
    # the payee's lines (D66): approved and pending runs' only, with no names of staff
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def paid(self) -> int:
        return sum(line["points"] for line in self.history if line["state"] == "approved")

    @property
    def pending(self) -> int:
        """The lines of a run waiting for approval: not paid yet."""
        return sum(line["points"] for line in self.history if line["state"] == "pending")

    @property
    def adjusted(self) -> int:
        return sum(
            line["points"]
            for line in self.history
            if line["state"] == "approved" and line["entry_type"] == "adjustment"
        )

    @property
    def owed(self) -> int:
        """Rule-based reward plus approved adjustments: what paid to date should reach."""
        return self.reward["reward_points"] + self.adjusted

    @property
    def unpublished(self) -> int:
        """The reward no run has paid or proposed yet: what the next publish would add (or
        claw back, negative) by the rules."""
        by_rules = sum(
            line["points"]
            for line in self.history
            if line["entry_type"] != "adjustment"  # approved or pending
        )
        return self.reward["reward_points"] - by_rules


def account_batches(con: duckdb.DuckDBPyConnection, account_id: str | None) -> list[list[str]]:
    """The enrolled accounts to write, by id, in batches (one account: it alone, if enrolled)."""
    ids = [
        a
        for (a,) in con.execute(
            "select account_id from marts.account_rewards "
            + ("where account_id = ? " if account_id is not None else "")
            + "order by account_id",
            [] if account_id is None else [account_id],
        ).fetchall()
    ]
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def read_statements(
    con: duckdb.DuckDBPyConnection, account_ids: list[str]
) -> list[AccountStatement]:
    """The statement data of `account_ids` (enrolled accounts), in their order. `con` is a
    serving-copy reader with the ledger's views defined (history.read_ledger)."""
    con.execute(
        "create or replace temp table statement_accounts as "
        "select unnest(cast(? as varchar[])) as account_id",
        [account_ids],
    )
    where, params = "where account_id in (select account_id from statement_accounts)", []
    rewards = rows_as_dicts(
        con, f"select * from marts.account_rewards {where} order by account_id", params
    )
    eligibility = {
        row["account_id"]: row
        for row in rows_as_dicts(con, f"select * from marts.account_eligibility {where}", params)
    }
    statements = {
        r["account_id"]: AccountStatement(r["account_id"], r, eligibility[r["account_id"]])
        for r in rewards
    }
    for s in statements.values():  # an account with no order, no video: zeros, not nothing
        for period in ("baseline", "window"):
            s.periods[period] = {"orders": 0, "gmv": Decimal("0.00")}
        s.quota_totals = {"days": 0, "videos": 0}

    excluded: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows_as_dicts(
        con,
        f"""
        select account_id, period, line_status, excluded_reason, rule_id,
            count(*) as orders, sum(settled_gmv) as settled_gmv, sum(counted_gmv) as counted_gmv
        from marts.reward_order_lines {where}
        group by all
        order by account_id, line_status, excluded_reason, period
    """,
        params,
    ):
        s = statements.get(row["account_id"])
        if s is None:  # lines of accounts that are not enrolled
            continue
        if row["line_status"] == "counted":
            totals = s.periods[row["period"]]
            totals["orders"] += row["orders"]
            totals["gmv"] += row["counted_gmv"]
            continue
        key = (row["account_id"], row["excluded_reason"])
        reason = excluded.get(key)
        if reason is None:
            reason = excluded[key] = {
                "reason": row["excluded_reason"],
                "rule_id": row["rule_id"],
                "orders": 0,
                "settled_gmv": Decimal("0.00"),
                "periods": [],
                "listed": [],
            }
            s.excluded.append(reason)
        reason["orders"] += row["orders"]
        reason["settled_gmv"] += row["settled_gmv"]
        reason["periods"].append(row["period"])

    for row in rows_as_dicts(
        con,
        f"""
        select account_id, order_id, video_id, period, created_day, status, settled_day, amount,
            refunded_amount, settled_gmv, line_status, excluded_reason, rule_id
        from marts.reward_order_lines {where}
        qualify row_number() over (
            partition by account_id, line_status, excluded_reason,
                case when line_status = 'counted' then period end
            order by created_at, order_id
        ) <= {ORDERS_LISTED}
        order by account_id, created_at, order_id
    """,
        params,
    ):
        s = statements.get(row["account_id"])
        if s is None:
            continue
        if row["line_status"] == "counted":
            s.counted_orders.setdefault(row["period"], []).append(row)
        else:
            excluded[(row["account_id"], row["excluded_reason"])]["listed"].append(row)

    for row in rows_as_dicts(
        con,
        f"""
        select account_id, count(*) as days, coalesce(sum(published_videos), 0) as videos
        from marts.video_quota {where} group by account_id
    """,
        params,
    ):
        if row["account_id"] in statements:
            statements[row["account_id"]].quota_totals = row
    for row in rows_as_dicts(
        con,
        f"""
        select * from marts.video_quota
        {where} and over_quota_videos > 0
        qualify row_number() over (partition by account_id order by published_day)
            <= {DAYS_LISTED}
        order by account_id, published_day
    """,
        params,
    ):
        if row["account_id"] in statements:
            statements[row["account_id"]].over_quota_days.append(row)

    # The payee's money only (D66): what approved runs paid and what a pending run proposes;
    # rejected lines, adjustments no run carries yet, who asked, decided or why a run was
    # rejected stay in the ledger (`rewards explain`, the workbook). Selected column by column,
    # so the page cannot show what it is not given.
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows_as_dicts(
        con,
        f"""
        select account_id, payout_run_id, published_at, state, entry_type, points,
            reward_points, reason, reference
        from ledger_lines
        {where} and state in ('approved', 'pending')
        order by payout_run_id, entry_type = 'adjustment', adjustment_id
    """,
        params,
    ):
        by_account[row["account_id"]].append(row)
    # behind an increase or a clawback: which orders changed since the last approved run that
    # paid the account, and how much GMV (D48), from order lines checked against their digests
    verify_lines(con, "payouts.ledger", account_ids)

    def by_rules(line: dict[str, Any]) -> bool:
        return line["entry_type"] in ("increase", "clawback")

    behind = behind_lines(
        con,
        [
            (account, line["payout_run_id"])
            for account, lines in by_account.items()
            for line in lines
            if by_rules(line)
        ],
    )
    for account, lines in by_account.items():
        for line in lines:
            # an adjustment in the same run is not the rules' line: nothing changed behind it
            key = (account, line["payout_run_id"])
            line["behind"] = behind.get(key) if by_rules(line) else None
        if account in statements:
            statements[account].history = lines
    return list(statements.values())


def read_index(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per enrolled account for the index: its reward and what approved runs paid."""
    return rows_as_dicts(
        con,
        """
        select rewards.account_id, rewards.account_type, rewards.is_eligible,
            rewards.ineligible_reason, rewards.reward_points,
            coalesce(paid.paid_points, 0) as paid
        from marts.account_rewards as rewards
        left join ledger_paid as paid on rewards.account_id = paid.account_id
        order by rewards.account_id
    """,
        [],
    )


def read_programme(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The index's totals: the programme summary, what the ledger pays, and the accrual."""
    summary = read_program_summary(con)  # every figure computed and labelled there (D61)
    runs = rows_as_dicts(con, "select * from ledger_runs order by payout_run_id", [])
    accrual = rows_as_dicts(con, "select * from marts.reward_accrual order by accrual_date", [])
    (waiting,) = con.execute(
        "select coalesce(sum(points), 0) from ledger_adjustments where state = 'recorded'"
    ).fetchall()[0]
    return {
        "summary": summary,
        "runs": runs,
        "paid": runs[-1]["paid_total"] if runs else 0,
        "pending": [r for r in runs if r["state"] == "pending"],
        "waiting_adjustments": waiting,
        "accrual": accrual,
        "closes": month_closes(con),
    }
