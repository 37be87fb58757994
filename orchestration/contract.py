"""The data contract of the landing zone, as data.

Each dataset lists its columns with a kind, whether a value is required and its accepted
values, plus the cross-field rules of `docs/data-contract.md`. Pure data on the bottom floor:
the loader (`defs/landing/loader.py`) turns it into DuckDB SQL, the quality suites
(`expectations/`) and the synthetic-data generator (`generator/`) read it; nothing else in the
project repeats these rules.

Nullability decision (docs/decisions.md, D1): the contract marks some columns "required" and
gives others a value rule (`> 0`, accepted values). A null cannot satisfy a value rule, so every
column is required except the three the contract explicitly lets be null: `orders.video_id`
(required only for short-video orders), `orders.settled_at` (required only when settled) and
`videos.deleted_at`.
"""

from __future__ import annotations

from dataclasses import dataclass

STRING, TIMESTAMP, DATE, BOOLEAN, INTEGER, MONEY = (
    "string",
    "timestamp",
    "date",
    "boolean",
    "integer",
    "money",
)

# A date as the contract writes it, `YYYY-MM-DD` (docs/data-contract.md, "Formats, exactly"): the
# loader's date and timestamp formats and the rule vars' dates (D32) are built on it.
DATE_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"

# DuckDB type each kind is stored as in the `raw` schema.
STORAGE_TYPE = {
    STRING: "VARCHAR",
    TIMESTAMP: "TIMESTAMPTZ",
    DATE: "DATE",
    BOOLEAN: "BOOLEAN",
    INTEGER: "BIGINT",
    MONEY: "DECIMAL(18,2)",
}

# Spark type each kind is stored as in Spark's database `raw` (the Spark loader's tables, what
# the dbt models and the quality suites read there; docs/spark.md)
SPARK_STORAGE_TYPE = {
    STRING: "string",
    TIMESTAMP: "timestamp",
    DATE: "date",
    BOOLEAN: "boolean",
    INTEGER: "bigint",
    MONEY: "decimal(18,2)",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowRule:
    """A cross-field rule: `violated_when` is SQL over the typed columns."""

    reason: str
    violated_when: str


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()
    # Rows sharing this key must be identical (then they collapse to one row); different rows
    # sharing it are all quarantined as `duplicate_key` -- the loader never picks one.
    unique_key: tuple[str, ...] = ()
    description: str = ""
    # what one row is, where counts are printed: an orders row is a version of an order (R2), so
    # 407,165 rows are not 407,165 orders
    row_noun: str = "rows"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="account_snapshots",
            description="Account state per snapshot day (type, followers, commerce switch).",
            columns=(
                Column("snapshot_date", DATE),
                Column("account_id", STRING),
                Column("account_type", STRING, accepted=("merchant", "promoter")),
                Column("follower_count", INTEGER),
                Column("short_video_commerce_enabled", BOOLEAN),
                Column("is_shop_self_operated", BOOLEAN),
            ),
            rules=(RowRule("negative_follower_count", "follower_count < 0"),),
            unique_key=("account_id", "snapshot_date"),
        ),
        Dataset(
            name="enrollments",
            description="Enrollment events; the first one per account counts (R10).",
            columns=(
                Column("account_id", STRING),
                Column("enrolled_at", TIMESTAMP),
                Column("enrolled_via", STRING, accepted=("shop_account", "channels_account")),
            ),
        ),
        Dataset(
            name="videos",
            description="Short videos; commerce videos carry a product link (R4, R6).",
            columns=(
                Column("video_id", STRING),
                Column("account_id", STRING),
                Column("published_at", TIMESTAMP),
                Column("is_commerce", BOOLEAN),
                Column("deleted_at", TIMESTAMP, required=False),
            ),
            rules=(RowRule("deleted_before_published", "deleted_at < published_at"),),
            unique_key=("video_id",),
        ),
        Dataset(
            name="orders",
            description="The orders change log: one row per order version (R2).",
            row_noun="change-log rows",
            columns=(
                Column("order_id", STRING),
                Column("updated_at", TIMESTAMP),
                Column("account_id", STRING),
                Column("channel", STRING, accepted=("short_video", "live", "showcase", "other")),
                Column("video_id", STRING, required=False),
                Column("created_at", TIMESTAMP),
                Column("amount", MONEY),
                Column("refunded_amount", MONEY),
                Column("status", STRING, accepted=("paid", "settled", "refunded", "cancelled")),
                Column("settled_at", TIMESTAMP, required=False),
            ),
            rules=(
                RowRule("non_positive_amount", "amount <= 0"),
                RowRule("refund_out_of_range", "refunded_amount < 0 or refunded_amount > amount"),
                RowRule("settled_without_settled_at", "status = 'settled' and settled_at is null"),
                RowRule("settled_before_created", "settled_at < created_at"),
                RowRule(
                    "short_video_without_video_id",
                    "channel = 'short_video' and video_id is null",
                ),
                RowRule(
                    "video_id_on_other_channel", "channel <> 'short_video' and video_id is not null"
                ),
            ),
        ),
    )
}

# Row-level reasons in the order the loader tests them; the first failing one is recorded.
GENERIC_REASONS = (
    "missing_required_value",
    "unparseable_value",
    "timestamp_without_zone",
    "invalid_category",
)
KEY_REASON = "duplicate_key"


def all_reasons() -> list[str]:
    rule_reasons = [r.reason for d in DATASETS.values() for r in d.rules]
    return [*GENERIC_REASONS, *rule_reasons, KEY_REASON]
