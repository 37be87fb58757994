"""Intermediate stage: R2's current orders, R6's video quota, R10's as-of eligibility.

Every check is blocking: each one, broken, would move GMV between counted and not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import Suite, check, no_rows, reloaded_after
from .dialects import Sql
from .staging import beijing_day_check

STAGE = "intermediate"
# int_video_quota is rebuilt whole from the videos and snapshots, which are reloaded whole (D30)
QUOTA_SCOPE = reloaded_after("videos", "account_snapshots")


def _tier_sql(quota_tiers: list[list[int]], followers: str) -> str:
    """R6's daily quota for a follower count, from the `quota_tiers` var."""
    tiers = sorted(quota_tiers, key=lambda tier: tier[0], reverse=True)
    whens = " ".join(f"when {followers} >= {int(low)} then {int(quota)}" for low, quota in tiers)
    return f"case {whens} end"


def suites(rule_vars: Mapping[str, Any], sql: Sql) -> list[Suite]:
    tz = rule_vars["timezone"]
    return [
        Suite(
            STAGE,
            "intermediate",
            "int_orders_current",
            (
                # One row per staged order, none lost, none doubled, in two numbers instead of a
                # scan: the table holds as many rows as the staged change log has distinct orders
                # (int_order_count, counted from the staged rows). Every row's order_id comes from
                # the staged log (one group per order_id) and is unique (dbt's `unique` on the rows
                # rebuilt, global because delete+insert replaces each key it writes), so equal
                # counts are equal sets (D31).
                check(
                    "one_current_row_per_order",
                    blocking=True,
                    rules=("R2", "R12"),
                    why="R2: every order of the staged change log has exactly one current row: "
                    "none lost, none doubled.",
                    expectations=[
                        no_rows(
                            "select current_rows, staged_orders, null_order_ids from ("
                            "select (select count(*) from intermediate.int_orders_current) "
                            "as current_rows, "
                            "(select orders from intermediate.int_order_count) as staged_orders, "
                            "(select count(*) from {batch} where order_id is null) "
                            "as null_order_ids) "
                            "where current_rows is distinct from staged_orders "
                            "or null_order_ids > 0",
                            "as many current rows as staged orders, none without an order_id",
                        )
                    ],
                ),
                beijing_day_check(
                    "days_are_beijing_dates",
                    [("created_day", "created_at"), ("settled_day", "settled_at")],
                    tz,
                    sql,
                ),
            ),
            scope="loaded_through > {through}",
        ),
        Suite(
            STAGE,
            "intermediate",
            "int_video_quota",
            (
                check(
                    "every_commerce_video_ranked",
                    blocking=True,
                    rules="R6",
                    why="Every commerce video has a quota rank and a tier quota.",
                    expectations=[
                        no_rows(
                            "select videos.video_id, quota.quota_rank, quota.daily_quota "
                            "from staging.stg_videos as videos "
                            "left join (select * from {batch}) as quota "
                            "on quota.video_id = videos.video_id "
                            f"where videos.is_commerce and {QUOTA_SCOPE} "
                            "and (quota.quota_rank is null or quota.daily_quota is null)",
                            "each commerce video is ranked with its quota",
                        )
                    ],
                ),
                check(
                    "quota_is_the_tier",
                    blocking=True,
                    rules="R6",
                    why="The daily quota is the tier of the follower count (quota_tiers var).",
                    expectations=[
                        no_rows(
                            "select video_id, follower_count, daily_quota from {batch} "
                            "where daily_quota is distinct from "
                            f"{_tier_sql(rule_vars['quota_tiers'], 'follower_count')}",
                            "quota matches the follower tier",
                        )
                    ],
                ),
                check(
                    "over_quota_iff_rank_exceeds_quota",
                    blocking=True,
                    rules="R6",
                    why="A video is over quota exactly when its rank exceeds the day's quota.",
                    expectations=[
                        no_rows(
                            "select video_id, quota_rank, daily_quota, is_over_quota from {batch} "
                            "where is_over_quota is distinct from (quota_rank > daily_quota)",
                            "over quota iff rank > quota",
                        )
                    ],
                ),
                check(
                    "snapshot_not_from_future",
                    blocking=True,
                    rules="R6",
                    why="The follower count is as of the publishing day, never a later snapshot.",
                    expectations=[
                        no_rows(
                            "select video_id, published_day, follower_snapshot_date from {batch} "
                            "where follower_snapshot_date > published_day",
                            "as-of snapshot on or before the publishing day",
                        )
                    ],
                ),
            ),
            scope=QUOTA_SCOPE,
        ),
        Suite(
            STAGE,
            "intermediate",
            "int_account_eligibility",
            (
                check(
                    "snapshot_not_from_future",
                    blocking=True,
                    rules="R10",
                    why="Eligibility reads the snapshot as of the first enrollment day, never a "
                    "later one.",
                    expectations=[
                        no_rows(
                            "select account_id, enrolled_day, eligibility_snapshot_date "
                            "from {batch} "
                            "where eligibility_snapshot_date > enrolled_day",
                            "as-of snapshot on or before the enrollment day",
                        )
                    ],
                ),
            ),
        ),
    ]
