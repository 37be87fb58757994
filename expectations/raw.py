"""Raw stage: the data contract (docs/data-contract.md) on `raw.<dataset>`.

Two kinds of check per dataset:
- on the loaded table, blocking: the columns and types, required values, accepted values, the
  cross-field rules and the unique keys hold for every row, and the table still holds exactly
  the rows the load logged. The loader quarantines every breaking row, so a failure here means a
  breach got past it: staging must not be built on it.
- on the quarantine, one WARN check per contract reason: "no row was quarantined for <reason>".
  Row-level breaches are expected in real feeds; they are set aside with their reason (R12), the
  run goes on, and the check shows how many rows and a few of them.

Accepted values, required columns and types come from the contract module, the one place the
contract is declared; the cross-field rules are restated here as GX's own expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestration.contract import (
    DATASETS,
    GENERIC_REASONS,
    KEY_REASON,
    STRING,
    TIMESTAMP,
    Dataset,
)
from orchestration.formatting import lit

from . import Check, Suite, check, expect, loaded_after, no_rows, reloaded_after
from .dialects import Sql

STAGE = "raw"


def _rule_expectations(reason: str) -> list[dict[str, Any]]:
    """The contract's cross-field rules (contract.RowRule) as GX expectations."""
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    return {
        "negative_follower_count": [
            expect("expect_column_values_to_be_between", column="follower_count", min_value=0)
        ],
        "deleted_before_published": [
            expect(
                pair,
                column_A="deleted_at",
                column_B="published_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        ],
        "non_positive_amount": [
            expect(
                "expect_column_values_to_be_between", column="amount", min_value=0, strict_min=True
            )
        ],
        "refund_out_of_range": [
            expect("expect_column_values_to_be_between", column="refunded_amount", min_value=0),
            expect(pair, column_A="amount", column_B="refunded_amount", or_equal=True),
        ],
        "settled_without_settled_at": [
            no_rows(
                "select order_id, updated_at, status from {batch} "
                "where status = 'settled' and settled_at is null",
                "a settled order carries settled_at",
            )
        ],
        "settled_before_created": [
            expect(
                pair,
                column_A="settled_at",
                column_B="created_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        ],
        "short_video_without_video_id": [
            no_rows(
                "select order_id, updated_at from {batch} "
                "where channel = 'short_video' and video_id is null",
                "a short-video order names its video",
            )
        ],
        "video_id_on_other_channel": [
            no_rows(
                "select order_id, updated_at, channel, video_id from {batch} "
                "where channel <> 'short_video' and video_id is not null",
                "only short-video orders name a video",
            )
        ],
    }[reason]


def _applicable_reasons(dataset: Dataset) -> list[str]:
    kinds = {c.kind for c in dataset.columns}
    applies = {
        "missing_required_value": any(c.required for c in dataset.columns),
        "unparseable_value": kinds != {STRING},
        "timestamp_without_zone": TIMESTAMP in kinds,
        "invalid_category": any(c.accepted for c in dataset.columns),
    }
    reasons = [r for r in GENERIC_REASONS if applies[r]]
    reasons += [rule.reason for rule in dataset.rules]
    return reasons + ([KEY_REASON] if dataset.unique_key else [])


def _contract_checks(dataset: Dataset, sql: Sql) -> list[Check]:
    names = [c.name for c in dataset.columns]
    expected = ", ".join(
        f"({sql.literal(c.name)}, {sql.literal(sql.type_name(c.kind))})" for c in dataset.columns
    )
    checks = [
        check(
            "columns_and_types",
            blocking=True,
            rules="R12",
            why="Every contract column exists with its type; timestamps are stored with "
            "their zone (TIMESTAMPTZ), money as DECIMAL(18,2).",
            expectations=[
                expect("expect_table_columns_to_match_set", column_set=names, exact_match=False),
                no_rows(
                    sql.column_types(names, expected),
                    "every contract column has its storage type",
                ),
            ],
        ),
        check(
            "required_values_present",
            blocking=True,
            rules="R12",
            why="Required columns are never null in the loaded table (D1).",
            expectations=[
                expect("expect_column_values_to_not_be_null", column=c.name)
                for c in dataset.columns
                if c.required
            ],
        ),
    ]
    checks += [
        check(
            f"{c.name}_accepted",
            blocking=True,
            rules="R12",
            why=f"`{c.name}` is one of the contract's values.",
            expectations=[
                expect(
                    "expect_column_values_to_be_in_set", column=c.name, value_set=list(c.accepted)
                )
            ],
        )
        for c in dataset.columns
        if c.accepted
    ]
    checks += [
        check(
            f"rule_{rule.reason}",
            blocking=True,
            rules="R12",
            why=f"No loaded row breaks the contract rule `{rule.violated_when}`.",
            expectations=_rule_expectations(rule.reason),
        )
        for rule in dataset.rules
    ]
    if dataset.unique_key:
        key = list(dataset.unique_key)
        unique = (
            expect("expect_column_values_to_be_unique", column=key[0])
            if len(key) == 1
            else expect("expect_compound_columns_to_be_unique", column_list=key)
        )
        checks.append(
            check(
                "unique_key",
                blocking=True,
                rules="R12",
                why=f"({', '.join(key)}) identifies one row (D4).",
                expectations=[unique],
            )
        )
    return checks


def _load_log_check(name: str) -> Check:
    """Whole-table counts (cheap), in the quarantine's suite, which validates every row."""
    return check(
        "rows_match_load_log",
        blocking=True,
        rules="R12",
        why="The table and its quarantine hold exactly the rows the load logged: nothing was "
        "lost or added after the load.",
        expectations=[
            no_rows(
                f"select log.rows_loaded, (select count(*) from raw.{name}) as rows_in_table, "
                f"log.rows_quarantined, "
                f"(select count(*) from {{batch}}) as rows_in_quarantine "
                f"from raw.load_log as log where log.dataset = {lit(name)} "
                f"and (log.rows_loaded <> (select count(*) from raw.{name}) "
                f"or log.rows_quarantined <> (select count(*) from {{batch}}))",
                "the load log's counts match the tables",
            )
        ],
    )


def _quarantine_suite(dataset: Dataset) -> Suite:
    """Validates `raw.<dataset>_quarantine`; its checks show on the `raw/<dataset>` asset."""
    checks = [_load_log_check(dataset.name)] + [
        check(
            f"quarantined_{reason}",
            blocking=False,
            rules="R12",
            why=f"Rows breaking the contract as `{reason}` are quarantined, not loaded: the "
            f"count is what the feed must fix; rewards use the remaining rows.",
            expectations=[
                no_rows(
                    f"select reason, detail, source_file, source_row "
                    f"from {{batch}} where reason = {lit(reason)}",
                    f"no row quarantined as {reason}",
                )
            ],
        )
        for reason in _applicable_reasons(dataset)
    ]
    return Suite(
        STAGE, "raw", f"{dataset.name}_quarantine", tuple(checks), guards=("raw", dataset.name)
    )


def scope(dataset: Dataset) -> str:
    """The rows a run validates (D30): a keyed dataset is reloaded whole, so all of it when it
    was reloaded; the others, the rows of their newly loaded files."""
    if dataset.unique_key:
        return reloaded_after(dataset.name)
    return loaded_after(dataset.name, "_source_file")


def suites(rule_vars: Mapping[str, Any], sql: Sql) -> list[Suite]:
    return [
        suite
        for d in DATASETS.values()
        for suite in (
            Suite(STAGE, "raw", d.name, tuple(_contract_checks(d, sql)), scope=scope(d)),
            _quarantine_suite(d),
        )
    ]
