"""Staging stage: `staging.stg_*` are the contract-valid raw rows, renamed, with Beijing days.

Every check is blocking: staging that lost a row, let a quarantined row through or dated a row
on the wrong day would change rewards downstream. R2's "one current row per order" is formed one
step later, in `int_orders_current`, so its check is in the intermediate suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestration.contract import DATASETS

from . import Check, Suite, check, no_rows
from .dialects import Sql
from .raw import scope

STAGE = "staging"


def _lineage_checks(dataset: str) -> list[Check]:
    return [
        check(
            "rows_preserved",
            blocking=True,
            rules="R12",
            why=f"Staging keeps every loaded row of raw.{dataset}: none lost, none added.",
            expectations=[
                no_rows(
                    f"select staged, loaded from (select "
                    f"(select count(*) from {{batch}}) as staged, "
                    f"(select count(*) from raw.{dataset} "
                    f"where {scope(DATASETS[dataset])}) as loaded) "
                    f"where staged <> loaded",
                    f"as many rows as raw.{dataset}",
                )
            ],
        ),
        check(
            "no_quarantined_rows",
            blocking=True,
            rules="R12",
            why="No row set aside in the quarantine reaches the models (R12).",
            expectations=[
                no_rows(
                    f"select staged.source_file, staged.source_row, quarantine.reason "
                    f"from (select * from {{batch}}) as staged "
                    f"inner join raw.{dataset}_quarantine as quarantine "
                    f"on staged.source_file = quarantine.source_file "
                    f"and staged.source_row = quarantine.source_row",
                    "no staged row is also quarantined",
                )
            ],
        ),
    ]


def beijing_day_check(name: str, pairs: list[tuple[str, str]], timezone: str, sql: Sql) -> Check:
    """`day` columns equal the calendar day of their timestamp in the rulebook's zone (R1)."""
    condition = " or ".join(
        f"{day} is distinct from {sql.local_date(ts, timezone)}" for day, ts in pairs
    )
    columns = ", ".join(c for pair in pairs for c in pair)
    return check(
        name,
        blocking=True,
        rules="R1",
        why=f"Every day is the {timezone} calendar day of its timestamp (R1).",
        expectations=[
            no_rows(
                f"select {columns} from {{batch}} where {condition}", f"days are {timezone} dates"
            )
        ],
    )


def _staged(dataset: str) -> str:
    """A staged table's scope is its raw table's, on the staged name of the file column."""
    return scope(DATASETS[dataset]).replace("_source_file in", "source_file in")


def suites(rule_vars: Mapping[str, Any], sql: Sql) -> list[Suite]:
    tz = rule_vars["timezone"]
    return [
        Suite(
            STAGE,
            "staging",
            "stg_orders",
            tuple(_lineage_checks("orders")),
            scope=_staged("orders"),
        ),
        Suite(
            STAGE,
            "staging",
            "stg_videos",
            (
                *_lineage_checks("videos"),
                beijing_day_check(
                    "published_day_is_beijing_date", [("published_day", "published_at")], tz, sql
                ),
            ),
            scope=_staged("videos"),
        ),
        Suite(
            STAGE,
            "staging",
            "stg_enrollments",
            (
                *_lineage_checks("enrollments"),
                beijing_day_check(
                    "enrolled_day_is_beijing_date", [("enrolled_day", "enrolled_at")], tz, sql
                ),
            ),
            scope=_staged("enrollments"),
        ),
        Suite(
            STAGE,
            "staging",
            "stg_account_snapshots",
            tuple(_lineage_checks("account_snapshots")),
            scope=_staged("account_snapshots"),
        ),
    ]
