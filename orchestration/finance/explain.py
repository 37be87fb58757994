"""`rewards explain ACCOUNT_ID`: an account's whole trail, from the serving copy and the ledger.

Every number and every outcome printed is read from the finance marts (`account_rewards`,
`account_eligibility`, `reward_order_lines`, `video_quota`, `quarantine`) of the last good run:
explain formats what the models computed and never judges or computes a rule itself (R10's
tests are the mart's `passes_*` columns, R7-R11's amounts its money and points columns). The
rules' one independent recomputation is the marts' Great Expectations suite (docs/quality.md).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from ..formatting import MONEY_UNIT, money, number, quantity
from ..rule_vars import period_days
from .changes import Behind, behind_line, behind_now
from .ledger.history import read_ledger
from .ledger.order_lines import verify_lines
from .ledger.schema import MAX_ADJUSTMENT_POINTS
from .serving import read_build_info, rows_as_dicts


class UnknownAccount(LookupError):
    pass


def _row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict | None:
    rows = rows_as_dicts(con, sql, params)
    return rows[0] if rows else None


def explain(con: duckdb.DuckDBPyConnection, account_id: str) -> list[str]:
    build = read_build_info(con)
    v = build.rule_vars
    read_ledger(con)
    # the order lines the ledger kept for this account, checked against their digests (D48)
    verify_lines(con, "payouts.ledger", [account_id])
    reward = _row(con, "select * from marts.account_rewards where account_id = ?", [account_id])
    if reward is None:
        raise UnknownAccount(
            f"{account_id} is not an enrolled account in the published marts "
            f"(run {build.dagster_run_id}); only enrolled accounts are rewarded "
            "(R10)"
        )
    lines = [
        f"Account {account_id}: {quantity(reward['reward_points'], 'points')}",
        f"  published marts: Dagster run {build.dagster_run_id}, built {build.built_at}, "
        f"code {build.code_version}",
        "",
    ]
    lines += _eligibility(con, account_id, v)
    lines += _orders(con, account_id, v)
    lines += _quota(con, account_id)
    lines += _quarantine(con, account_id)
    lines += _formula(reward, v)
    lines += _ledger(con, account_id, reward["reward_points"])
    return lines


def eligibility_tests(e: dict, v: dict) -> list[tuple[str, str, bool | None]]:
    """R10's tests in the rulebook's order, each as the marts judged it (its `passes_*` column of
    marts.account_eligibility): (column, what it tests, passed; None after the first failure,
    which is the reason)."""
    tests = [
        ("passes_enrolled_in_time", f"enrolled on or before the campaign end {v['campaign_end']}"),
        ("passes_snapshot_exists", "a snapshot exists on or before the enrollment day"),
        (
            "passes_enrollment_channel",
            "enrolled through its type's channel (merchant: shop_account, promoter: "
            "channels_account)",
        ),
        ("passes_commerce_enabled", "short-video commerce enabled"),
        (
            "passes_follower_threshold",
            f"at least {quantity(v['min_followers'], 'followers')}, or a self-operated shop",
        ),
    ]
    judged: list[tuple[str, str, bool | None]] = []
    decided = False
    for column, label in tests:
        judged.append((column, label, None if decided else bool(e[column])))
        decided = decided or not e[column]
    return judged


def _eligibility(con, account_id: str, v: dict) -> list[str]:
    e = _row(con, "select * from marts.account_eligibility where account_id = ?", [account_id])
    lines = [
        "Enrollment and eligibility (R10)",
        f"  first enrolled {e['enrolled_at']} (Beijing day {e['enrolled_day']}) via "
        f"{e['enrolled_via']}",
    ]
    if e["eligibility_snapshot_date"] is None:
        lines.append("  judged on: no account snapshot on or before that day")
    else:
        lines.append(
            f"  judged on the snapshot of {e['eligibility_snapshot_date']}: "
            f"{e['account_type']}, {quantity(e['follower_count'], 'followers')}, "
            f"short-video commerce {'on' if e['short_video_commerce_enabled'] else 'off'}, "
            f"{'self-operated shop' if e['is_shop_self_operated'] else 'not a self-operated shop'}"
        )
    if "passes_enrolled_in_time" not in e:
        raise ValueError(
            "the published marts were built before account_eligibility had its "
            "per-test columns: run `rewards run` to publish them again"
        )
    for _, label, passed in eligibility_tests(e, v):
        if passed is None:
            lines.append(f"  [ -- ] {label} (not reached)")
        else:
            lines.append(f"  [{'pass' if passed else 'FAIL'}] {label}")
    lines.append(
        "  => eligible"
        if e["is_eligible"]
        else f"  => not eligible: {e['ineligible_reason']} (0 points)"
    )
    return lines + [""]


def _orders(con, account_id: str, v: dict) -> list[str]:
    rows = con.execute(
        """
        select period, line_status, excluded_reason, rule_id, count(*), sum(settled_gmv),
            sum(counted_gmv)
        from marts.reward_order_lines where account_id = ?
        group by all order by period, line_status, excluded_reason
    """,
        [account_id],
    ).fetchall()
    lines = ["Short-video orders (R2-R5; every line in marts.reward_order_lines)"]
    if not rows:
        return lines + ["  none", ""]
    periods = {
        "baseline": f"{v['baseline_start']} .. {v['baseline_end']}",
        "window": f"{v['campaign_start']} .. {v['campaign_end']}",
    }
    for period in ("baseline", "window"):
        counted = [r for r in rows if r[0] == period and r[1] == "counted"]
        orders = sum(r[4] for r in counted)
        gmv = sum((r[6] for r in counted), Decimal(0))
        lines.append(
            f"  {period:<8} {periods[period]}: {quantity(orders, 'counted orders')}, "
            f"settled GMV {money(gmv)}"
        )
    excluded = [r for r in rows if r[1] == "excluded"]
    if excluded:
        lines.append("  excluded (first reason; settled GMV per R3):")
        for period, _, reason, rule, n, settled, _ in excluded:
            lines.append(
                f"    {reason:<24} {rule:<4} {period:<8} {quantity(n, 'orders'):>14}  "
                f"{money(settled):>14}"
            )
    return lines + [""]


def _quota(con, account_id: str) -> list[str]:
    days = con.execute(
        """
        select published_day, follower_count, tier_min_followers, daily_quota, published_videos,
            over_quota_videos, over_quota_orders, over_quota_window_gmv
        from marts.video_quota where account_id = ? and over_quota_videos > 0
        order by published_day
    """,
        [account_id],
    ).fetchall()
    totals = con.execute(
        """
        select count(*), coalesce(sum(published_videos), 0) from marts.video_quota
        where account_id = ?""",
        [account_id],
    ).fetchone()
    lines = [
        "Posting quota (R6; marts.video_quota)",
        f"  {quantity(totals[1], 'commerce videos')} on {quantity(totals[0], 'days')}; "
        f"{quantity(len(days), 'days')} over quota",
    ]
    if days:
        lost = sum((d[7] for d in days), Decimal(0))
        lines.append(
            f"  over-quota videos: {number(sum(d[5] for d in days))}, their orders: "
            f"{number(sum(d[6] for d in days))}, window GMV not counted: {money(lost)}"
        )
        lines.append("    day         followers  tier     quota  posted  over  window GMV lost")
        for day, followers, tier, quota, posted, over, _, gmv in days[:20]:
            tier_text = "-" if tier is None else f"{tier:,}+"
            lines.append(
                f"    {day}  {followers:>9,}  {tier_text:<7}  {quota:>5}  {posted:>6}  "
                f"{over:>4}  {money(gmv):>15}"
            )
        if len(days) > 20:
            lines.append(f"    ... {quantity(len(days) - 20, 'more days')} in marts.video_quota")
    return lines + [""]


def _quarantine(con, account_id: str) -> list[str]:
    rows = con.execute(
        """
        select dataset, reason, rule_id, count(*) from marts.quarantine
        where json_extract_string(record, '$.account_id') = ?
        group by all order by dataset, reason
    """,
        [account_id],
    ).fetchall()
    lines = ["Quarantined rows naming this account (R2, R4, R12; marts.quarantine)"]
    if not rows:
        return lines + ["  none", ""]
    for dataset, reason, rule, n in rows:
        lines.append(f"  {dataset:<18} {reason:<28} {rule:<4} {quantity(n, 'rows'):>11}")
    return lines + [""]


def _formula(r: dict, v: dict) -> list[str]:
    """The marts' amounts, in the formula's words (the period lengths are those of the run's
    dates, R5)."""
    window_days = period_days(v, "campaign_start", "campaign_end")
    baseline_days = period_days(v, "baseline_start", "baseline_end")
    cap = int(v["reward_cap_points"])
    uncapped, points = r["reward_points_uncapped"], r["reward_points"]
    lines = [
        "Reward (R7, R8, R11)",
        f"  baseline GMV = {money(r['baseline_period_gmv'])} x {window_days} / {baseline_days}"
        f" = {money(r['baseline_gmv'])} (half-up to 0.01)"
        + ("; new entrant (R8)" if r["is_new_entrant"] else ""),
        f"  reward base  = max(0, {money(r['window_gmv'])} - {money(r['baseline_gmv'])}) = "
        f"{money(r['reward_base'])}",
        f"  points       = floor({money(r['reward_base'])} x {v['reward_rate']}) = "
        f"{number(uncapped)}",
        f"  cap          = {quantity(cap, 'points')}: "
        + (
            "not eligible, 0 points"
            if not r["is_eligible"]
            else f"capped at {number(cap)}"
            if r["is_capped"]
            else "not reached"
        ),
        f"  => {quantity(points, 'points')}",
    ]
    return lines + [""]


STATES = {
    "pending": "pending approval: not paid yet",
    "rejected": "rejected by {decided_by}: not paid",
    "approved": "approved by {decided_by}",
}


def _ledger(con, account_id: str, reward_points: int) -> list[str]:
    """Every line of every payout run for the account, with the run's state, and the adjustments
    waiting for the next publish; paid to date counts approved runs only (D35)."""
    lines = ["Payout ledger"]
    (runs,) = con.execute("select count(*) from ledger_runs").fetchall()[0]
    rows = con.execute(
        """
        select payout_run_id, published_at, state, decided_by, entry_type, points,
            adjustment_id, reason, reference, requested_by
        from ledger_lines where account_id = ?
        order by payout_run_id, entry_type = 'adjustment', adjustment_id
    """,
        [account_id],
    ).fetchall()

    def adjustments_in(state: str) -> list[tuple]:
        return con.execute(
            """
            select adjustment_id, requested_at, points, reason, reference, requested_by
            from ledger_adjustments where account_id = ? and state = ?
            order by adjustment_id
        """,
            [account_id, state],
        ).fetchall()

    waiting = adjustments_in("recorded")  # no run carries them yet
    void = adjustments_in("void")  # out of range when recorded (D47): never carried
    if not runs and not waiting and not void:
        return lines + ["  nothing published yet (`rewards publish`)"]
    for run_id, at, state, decided_by, entry_type, points, adj_id, reason, ref, by in rows:
        status = (
            STATES[state].format(decided_by=decided_by)
            if decided_by or state == "pending"
            else "paid before approvals were recorded"
        )
        line = (
            f"  payout run {run_id} ({at}, {status}): {entry_type:<10} "
            f"{number(points, signed=True)}"
        )
        if entry_type == "adjustment":
            line += _adjustment_text(adj_id, reason, ref, by)
        lines.append(line)
        if entry_type in ("increase", "clawback"):
            lines += _behind(behind_line(con, account_id, run_id))
    for adj_id, at, points, reason, ref, by in waiting:
        lines.append(
            f"  recorded {at}, waits for the next publish: adjustment "
            f"{number(points, signed=True)}" + _adjustment_text(adj_id, reason, ref, by)
        )
    for adj_id, at, points, reason, ref, by in void:
        lines.append(
            f"  recorded {at}: adjustment {adj_id} {points:+,} is void -- beyond "
            f"±{MAX_ADJUSTMENT_POINTS:,} points, recorded by an earlier version; never carried, "
            "never paid (D47)" + _adjustment_text(adj_id, reason, ref, by)
        )
    paid = sum(r[5] for r in rows if r[2] == "approved")
    adjusted = sum(r[5] for r in rows if r[2] == "approved" and r[4] == "adjustment")
    owed = reward_points + adjusted
    unpaid = reward_points - (paid - adjusted)
    lines.append(
        f"  paid to date {number(paid)} of {number(owed)}"
        + (
            f" (rule-based {number(paid - adjusted)}, adjustments {number(adjusted, signed=True)})"
            if adjusted
            else ""
        )
        + ("" if unpaid == 0 else f"; the next publish adjusts by {number(unpaid, signed=True)}")
    )
    if unpaid:
        lines += _behind(behind_now(con, account_id))
    return lines


ORDERS_SHOWN = 10


def _behind(behind: Behind | None) -> list[str]:
    """What changed behind a line (D48): the GMV by period, then the orders, largest first."""
    if behind is None:
        return []
    since = f"since payout run {behind.since_run}"
    if not behind.recorded:
        return [f"      {since}: order lines not itemised (a run written before they were kept)"]
    moved = [
        f"{period} GMV {number(behind.change(period), MONEY_UNIT, signed=True)}"
        for period in ("baseline", "window")
        if behind.change(period)
    ]
    out = [
        f"      {since}: "
        + (", ".join(moved) or "no counted GMV moved")
        + f" in {quantity(len(behind.orders), 'orders')}"
    ]
    for o in behind.orders[:ORDERS_SHOWN]:
        now = (
            "no longer a line (another account, or outside both periods)"
            if o.status is None
            else o.status
            + (
                f", {money(o.refunded_amount)} of {money(o.amount)} refunded"
                if o.refunded_amount
                else ""
            )
            + (
                f"; not counted: {o.excluded_reason}"
                if o.excluded_reason and o.excluded_reason != o.status
                else ""
            )
        )
        out.append(
            f"        {o.order_id} ({o.period}, created {o.created_day}): counted "
            f"{money(o.before)} -> {money(o.after)} ({now})"
        )
    if len(behind.orders) > ORDERS_SHOWN:
        out.append(f"        ... and {quantity(len(behind.orders) - ORDERS_SHOWN, 'more orders')}")
    return out


def _adjustment_text(adjustment_id: int, reason: str, reference: str | None, by: str) -> str:
    ref = f", ref {reference}" if reference else ""
    return f' "{reason}" (adjustment {adjustment_id}{ref}, asked by {by})'
