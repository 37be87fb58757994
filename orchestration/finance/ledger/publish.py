"""`rewards publish`: the serving copy's rewards as a numbered payout run, pending approval.

The first run pays every account its reward; a later run writes, per account, only the
difference between its reward now and what the *approved* runs have paid it by the rules (an
increase, or a clawback after late refunds), so the rule-based lines of an account's approved
runs always sum to its latest approved reward. The run also carries every adjustment recorded
since the last publish (`rewards adjust`), as lines of their own: adjustments are never
corrected away by a later run, which compares rule-based lines only (D37).

A run is `pending` until someone other than its publisher approves it (`rewards approve`), or
it is rejected (`rewards reject`): only approved runs count as paid, and while one is pending
no other may be published. After a rejection the next publish starts again from the last
approved state (D35). When no account's reward differs from what is paid and no adjustment
waits, publish writes nothing at all -- in particular for the same inputs twice.

Each run keeps, beside its entries, the rewards it was computed from, its rule vars and its
input files, so `rewards export --payout-run N` re-reads it exactly after any later run (D38).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ...serving_layout import local_now
from ..serving import open_serving_copy, read_build_info
from .appending import NothingToAppend, appending
from .chain import inputs_digest, rewards_digests, run_digest
from .events import append_event
from .order_lines import keep_lines, lines_digest
from .schema import REWARD_COLUMNS, Actor, LedgerError, one


@dataclass
class PublishResult:
    payout_run_id: int | None  # None: nothing written
    accounts_adjusted: int = 0
    points_adjusted: int = 0
    points_paid_total: int = 0  # what is paid once this run is approved
    by_type: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> lines, points
    reason: str = ""


def pending_run_refusal(con: duckdb.DuckDBPyConnection, doing: str) -> str | None:
    """Why `doing` must wait: the run pending approval, named (None: none is pending)."""
    pending = one(
        con,
        "select payout_run_id, published_by, published_at from ledger_runs where state = 'pending'",
    )
    if pending is None:
        return None
    run_id, by, at = pending
    return (
        f"payout run {run_id} (published by {by} at {at}) is pending approval: approve or reject "
        f"it before {doing} (`rewards approve {run_id} --by NAME`, "
        f"`rewards reject {run_id} --by NAME --reason TEXT`)"
    )


def _nothing_to_publish(last_approved: int | None, paid: int) -> PublishResult:
    return PublishResult(
        None,
        points_paid_total=paid,
        reason=(
            f"nothing to publish: the approved payout runs (the last is run {last_approved}) "
            "already pay exactly these rewards, and no adjustment is waiting"
            if last_approved
            else "nothing to publish: no account has points and no adjustment is waiting"
        ),
    )


# what a ledger started before sums were widened (D59) keeps: amounts in DECIMAL(18,2), uncapped
# points in BIGINT (schema.py)
NARROW_LIMIT = 10**16
BIGINT_MAX = 2**63 - 1
MONEY_COLUMNS = (
    "baseline_period_gmv",
    "baseline_gmv",
    "window_gmv",
    "over_quota_gmv",
    "reward_base",
)


def _refuse_amounts_too_wide(con: duckdb.DuckDBPyConnection) -> None:
    """A ledger whose `run_rewards` was created with DECIMAL(18,2) amounts (and BIGINT uncapped
    points) cannot keep a sum of 10^16 CNY or more: refused in one line naming the account,
    before anything is written."""
    (kind,) = one(
        con,
        "select any_value(data_type) from duckdb_columns() where database_name = "
        "current_database() and schema_name = 'ledger' and table_name = 'run_rewards' "
        "and column_name = 'window_gmv'",
    )
    if kind != "DECIMAL(18,2)":
        return
    widest = " or ".join(f"abs({c}) >= {NARROW_LIMIT}" for c in MONEY_COLUMNS)
    row = one(
        con,
        f"select account_id, window_gmv from rewards_now where {widest} "
        f"or reward_points_uncapped > {BIGINT_MAX} limit 1",
    )
    if row is not None:
        raise LedgerError(
            f"{row[0]}'s amounts (window GMV {row[1]:,.2f} CNY) do not fit this ledger, "
            "started before sums were widened: its run_rewards keeps amounts below 10^16 CNY; "
            "nothing was published (start a new ledger for a new programme, or check the data)"
        )


def publish(serving_copy: Path, ledger: Path, actor: Actor | None = None) -> PublishResult:
    """Append a pending payout run for the serving copy's rewards and the adjustments waiting,
    or nothing when the approved runs already pay exactly them."""
    actor = actor or Actor.declared()
    # the generation the serving copy links to now: the rewards and their order lines are read
    # from this one file, whatever a run swaps in meanwhile (D23)
    served_file = serving_copy.resolve()
    with open_serving_copy(served_file) as served:
        build = read_build_info(served)
        (unbalanced,) = one(
            served, "select count(*) from marts.reconciliation where not is_balanced"
        )
        if unbalanced:
            raise LedgerError("the served reconciliation does not close; nothing published")
        rewards = served.sql(
            f"select {', '.join(REWARD_COLUMNS)} from marts.account_rewards"
        ).to_arrow_table()
        inputs = served.execute(
            "select dataset, file, size_bytes, rows_read, sha256 from serving.input_files "
            "order by dataset, file"
        ).fetchall()

    try:
        with appending(ledger) as step:
            con, previous = step.con, step.head
            refusal = pending_run_refusal(con, "publishing another")
            if refusal:
                raise LedgerError(refusal)
            con.register("rewards_now", rewards)
            _refuse_amounts_too_wide(con)
            # rule-based lines against what the approved runs paid by the rules (adjustments apart)
            con.execute("""
                create or replace temp table rule_lines as
                with paid as (
                    select account_id, sum(points) as paid from ledger_lines
                    where state = 'approved' and entry_type <> 'adjustment'
                    group by account_id
                )
                select
                    coalesce(rewards_now.account_id, paid.account_id) as account_id,
                    case
                        when paid.account_id is null then 'initial'
                        when coalesce(rewards_now.reward_points, 0) > paid.paid then 'increase'
                        else 'clawback'
                    end as entry_type,
                    cast(coalesce(rewards_now.reward_points, 0) - coalesce(paid.paid, 0) as bigint)
                        as points,
                    cast(coalesce(rewards_now.reward_points, 0) as bigint) as reward_points
                from rewards_now
                full outer join paid on rewards_now.account_id = paid.account_id
                where coalesce(rewards_now.reward_points, 0) <> coalesce(paid.paid, 0)
            """)
            rows = con.execute("select * from rule_lines order by account_id").fetchall()
            carried = con.execute(
                "select adjustment_id, account_id, points from ledger_adjustments "
                "where state = 'recorded' order by adjustment_id"
            ).fetchall()
            last_run, last_approved, paid_before = one(
                con,
                "select coalesce(max(payout_run_id), 0), "
                "max(payout_run_id) filter (where state = 'approved'), "
                "coalesce(sum(case when state = 'approved' then points end), 0) from ledger_runs",
            )
            if not rows and not carried:
                raise NothingToAppend(_nothing_to_publish(last_approved, paid_before))
            run_id = last_run + 1
            net = sum(r[2] for r in rows) + sum(a[2] for a in carried)
            run = {
                "payout_run_id": run_id,
                "published_at": local_now(build.rule_vars["timezone"]),
                "published_by": actor.name,
                "dagster_run_id": build.dagster_run_id,
                "marts_built_at": build.built_at,
                "code_version": build.code_version,
                "rule_vars": json.dumps(build.rule_vars, sort_keys=True),
                "inputs_sha256": inputs_digest(inputs),
                "accounts_adjusted": len(rows),
                "points_adjusted": net,
                "points_paid_total": paid_before + net,
            }
            entries_sha = run_digest(previous, rows, carried)
            con.execute(
                "insert into ledger.payout_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*run.values(), entries_sha, previous],
            )
            con.executemany(
                "insert into ledger.payout_run_inputs values (?, ?, ?, ?, ?, ?)",
                [[run_id, *row] for row in inputs],
            )
            con.execute(
                "insert into ledger.entries "
                "select ?, account_id, entry_type, points, reward_points from rule_lines",
                [run_id],
            )
            if carried:
                con.executemany(
                    "insert into ledger.adjustment_entries values (?, ?, ?, ?)",
                    [
                        [adjustment_id, run_id, account, points]
                        for adjustment_id, account, points in carried
                    ],
                )
            con.execute(
                f"insert into ledger.run_rewards select ?, {', '.join(REWARD_COLUMNS)} "
                "from rewards_now",
                [run_id],
            )
            # the order lines behind the rule-based lines, for what changed behind them (D48)
            con.execute("attach ? as served (read_only)", [str(served_file)])
            keep_lines(con, run_id, "served.marts.reward_order_lines", "rule_lines")
            con.execute("detach served")
            append_event(
                con,
                run_id,
                "published",
                actor,
                entries_sha,
                run=run,
                inputs_sha256=run["inputs_sha256"],
                rewards_sha256=rewards_digests(con, "ledger", run_id).get(run_id),
                order_lines_sha256=lines_digest(con, "ledger", run_id).get(run_id),
                at=run["published_at"],
            )
            step.action = f"payout run {run_id} published by {actor.name}"
    except NothingToAppend as nothing:
        return nothing.args[0]
    by_type: dict[str, tuple[int, int]] = {}
    lines = [(r[1], r[2]) for r in rows] + [("adjustment", a[2]) for a in carried]
    for entry_type, points in lines:
        count, total = by_type.get(entry_type, (0, 0))
        by_type[entry_type] = (count + 1, total + points)
    return PublishResult(run_id, len(rows), net, paid_before + net, by_type)
