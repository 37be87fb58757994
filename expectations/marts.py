"""Marts stage: the invariants of what finance pays (`marts.account_rewards`) and R12's
reconciliation. Every check is blocking: a failure here is a wrong payout.

The formulas are recomputed from the row's own columns and the run's rule parameters, not read
from the model's helper columns, so a wrong model cannot vouch for itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestration.formatting import lit

from . import Suite, check, expect, no_rows
from .dialects import Sql

STAGE = "marts"

MONEY_COLUMNS = (
    "baseline_period_gmv",
    "baseline_gmv",
    "window_gmv",
    "over_quota_gmv",
    "reward_base",
)


def suites(rule_vars: Mapping[str, Any], sql: Sql) -> list[Suite]:
    cap = int(rule_vars["reward_cap_points"])
    rate = f"cast({lit(str(rule_vars['reward_rate']))} as decimal(18, 6))"
    # whole points as a decimal, as the model keeps them (D59): exact in DuckDB's 38 digits for a
    # reward base below 10^30 / rate CNY; beyond it the check fails rather than vouch for it
    uncapped = f"floor(reward_base * {rate})"
    return [
        Suite(
            STAGE,
            "marts",
            "account_rewards",
            (
                check(
                    "one_row_per_enrolled_account",
                    blocking=True,
                    rules=("R10", "R12"),
                    why="Each first-enrolled account has exactly one reward row: none lost, none "
                    "paid twice.",
                    expectations=[
                        expect("expect_column_values_to_be_unique", column="account_id"),
                        no_rows(
                            "select enrolled.account_id "
                            "from intermediate.int_first_enrollments as enrolled "
                            "where not exists (select 1 from (select * from {batch}) as rewards "
                            "where rewards.account_id = enrolled.account_id)",
                            "every enrolled account has a reward row",
                        ),
                    ],
                ),
                check(
                    "points_within_cap",
                    blocking=True,
                    rules="R11",
                    why=f"No account gets more than reward_cap_points ({cap:,}) or less than 0.",
                    expectations=[
                        expect(
                            "expect_column_values_to_be_between",
                            column="reward_points",
                            min_value=0,
                            max_value=cap,
                        )
                    ],
                ),
                check(
                    "points_formula",
                    blocking=True,
                    rules=("R10", "R11"),
                    why="reward_points = min(floor(reward_base × reward_rate), cap) when eligible, "
                    "0 otherwise.",
                    expectations=[
                        no_rows(
                            f"select account_id, is_eligible, reward_base, reward_points_uncapped, "
                            f"reward_points from {{batch}} "
                            f"where reward_points_uncapped is distinct from {uncapped} "
                            f"or reward_points is distinct from "
                            f"case when is_eligible then least({uncapped}, {cap}) else 0 end "
                            f"or is_capped is distinct from (is_eligible and {uncapped} > {cap})",
                            "points follow R11 from reward_base",
                        )
                    ],
                ),
                check(
                    "reward_base_formula",
                    blocking=True,
                    rules="R11",
                    why="reward_base = max(0, window_gmv − baseline_gmv).",
                    expectations=[
                        no_rows(
                            "select account_id, window_gmv, baseline_gmv, reward_base from {batch} "
                            "where reward_base is distinct from "
                            "greatest(window_gmv - baseline_gmv, 0)",
                            "reward_base follows R11",
                        )
                    ],
                ),
                check(
                    "new_entrant_iff_no_baseline",
                    blocking=True,
                    rules="R8",
                    why="is_new_entrant exactly when baseline_period_gmv = 0.",
                    expectations=[
                        no_rows(
                            "select account_id, baseline_period_gmv, is_new_entrant from {batch} "
                            "where is_new_entrant is distinct from (baseline_period_gmv = 0)",
                            "new entrant iff no baseline GMV",
                        )
                    ],
                ),
                check(
                    "money_never_negative",
                    blocking=True,
                    rules=("R7", "R9", "R11"),
                    why="GMV, baselines and bases are never negative nor null.",
                    expectations=[
                        expect("expect_column_values_to_be_between", column=column, min_value=0)
                        for column in MONEY_COLUMNS
                    ]
                    + [
                        expect("expect_column_values_to_not_be_null", column=column)
                        for column in MONEY_COLUMNS
                    ],
                ),
            ),
        ),
        Suite(
            STAGE,
            "marts",
            "reconciliation",
            (
                check(
                    "identities_close_to_the_cent",
                    blocking=True,
                    rules=("R2", "R4", "R12"),
                    why="Each reconciliation identity (R12's window GMV among them) balances to "
                    "0.00.",
                    expectations=[
                        expect("expect_table_row_count_to_equal", value=3),
                        no_rows(
                            "select identity, left_side, right_side, difference from {batch} "
                            "where left_side is distinct from right_side "
                            "or difference is distinct from 0",
                            "every identity closes to the cent",
                        ),
                    ],
                ),
            ),
        ),
    ]
