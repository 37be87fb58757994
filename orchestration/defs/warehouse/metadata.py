"""What a data engineer sees on a dbt model's materialization in the Dagster UI.

Every model gets its row count (`dagster/row_count`, views included); a few get more:

* `marts/account_rewards`: the top 10 accounts by points;
* `marts/program_summary`: every figure of the programme, keyed by its label, which names the
  population it counts (D61): counts and points as numbers (plotted run after run), money as the
  text of the exact decimal (never a float), and the whole summary as a table;
* `intermediate/int_short_video_orders`: the window's counted orders and settled GMV per Beijing
  day (R5, R3), as a table;
* `marts/quarantine`: quarantined rows by reason (R12, R2, R4);
* `marts/reward_accrual`: the latest accrual day's figures (GMV and points to date, the
  projection, accounts earning), and every day as a table.

All of it is computed by SQL inside DuckDB (aggregates only come back to Python), after dbt has
finished the build: the warehouse file takes a single writer, and dbt (in this process,
orchestration/defs/warehouse/dbt_build.py) releases it only when its invocation ends. So the
build's events are collected first and yielded afterwards with their metadata -- what
dagster-dbt's own `fetch_row_counts()` does on DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    MaterializeResult,
    MetadataValue,
    Output,
)

from ...formatting import MONEY_UNIT, markdown_table, number, unit_of
from ...serving_layout import read_program_summary
from ..resources import WarehouseResource

TOP_ACCOUNTS = 10
MAX_DAYS = 40

Con = duckdb.DuckDBPyConnection


def _relation(key: AssetKey) -> str:
    """Models are keyed `<schema>/<model>` (RewardsTranslator); quoted for SQL."""
    schema, table = key.path[-2:]
    return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'


def account_rewards_metadata(con: Con, relation: str) -> dict[str, Any]:
    # the programme's totals are program_summary's figures (D61), on its own materialization
    columns = [
        "account_id",
        "account_type",
        "window_gmv",
        "baseline_gmv",
        "reward_base",
        "reward_points",
        "is_capped",
    ]
    top = con.execute(
        f"select {', '.join(columns)} from {relation} "
        f"order by reward_points desc, reward_base desc, account_id limit {TOP_ACCOUNTS}"
    ).fetchall()
    return {"top_accounts_by_points": MetadataValue.md(markdown_table(columns, top))}


def program_summary_metadata(con: Con, relation: str) -> dict[str, Any]:
    figures = read_program_summary(con, relation)
    table = markdown_table(
        ["figure", "value", "unit"],
        [(f.label, number(f.value, f.unit), unit_of(f.value, f.unit)) for f in figures],
    )
    return {
        # money stays exact: the decimal's own digits, as text; counts and points plot
        **{
            f.label: MetadataValue.text(str(f.value))
            if f.unit == MONEY_UNIT
            else MetadataValue.int(int(f.value))
            for f in figures
        },
        "program_summary": MetadataValue.md(table),
    }


def short_video_orders_metadata(con: Con, relation: str) -> dict[str, Any]:
    # one row per Beijing day of the window: few rows, whatever the number of orders
    days = con.execute(
        f"select created_day, count(*), sum(settled_gmv) from {relation} "
        f"where period = 'window' and treatment = 'counted' "
        f"group by created_day order by created_day"
    ).fetchall()
    orders = sum(n for _, n, _ in days)
    gmv = sum((g for _, _, g in days), start=Decimal("0.00"))  # exact decimals
    table = markdown_table(["created_day", "orders", "settled_gmv"], days[:MAX_DAYS])
    if len(days) > MAX_DAYS:
        table += f"\n\n… and {len(days) - MAX_DAYS} more days"
    return {
        "window_counted_orders": int(orders),
        "window_counted_settled_gmv": MetadataValue.text(str(gmv)),
        "daily_window_gmv": MetadataValue.md(table if days else "no counted orders in the window"),
    }


def quarantine_metadata(con: Con, relation: str) -> dict[str, Any]:
    rows = con.execute(
        f"select rule_id, reason, dataset, count(*) as n from {relation} "
        f"group by all order by n desc, rule_id, reason, dataset"
    ).fetchall()
    by_reason: dict[str, int] = {}
    for _, reason, _, n in rows:
        by_reason[reason] = by_reason.get(reason, 0) + n
    return {
        **{f"quarantined/{reason}": n for reason, n in sorted(by_reason.items())},
        "quarantine_by_reason": MetadataValue.md(
            markdown_table(["rule_id", "reason", "dataset", "rows"], rows)
            if rows
            else "nothing quarantined"
        ),
    }


def reward_accrual_metadata(con: Con, relation: str) -> dict[str, Any]:
    columns = [
        "accrual_date",
        "days_elapsed",
        "window_gmv_to_date",
        "points_to_date",
        "projected_points",
        "accounts_earning",
    ]
    days = con.execute(
        f"select {', '.join(columns)} from {relation} order by accrual_date"
    ).fetchall()
    if not days:
        return {"accrual": MetadataValue.md("no counted window order yet: nothing accrued")}
    day, elapsed, gmv, points, projected, earning = days[-1]
    return {
        "accrual_date": MetadataValue.text(str(day)),
        "days_elapsed": int(elapsed),
        "window_gmv_to_date": MetadataValue.text(str(gmv)),  # exact decimal, as text
        "points_to_date": int(points),
        "projected_points": int(projected),
        "accounts_earning": int(earning),
        "accrual_by_day": MetadataValue.md(markdown_table(columns, days)),
    }


EXTRA: dict[AssetKey, Callable[[Con, str], dict[str, Any]]] = {
    AssetKey(["marts", "account_rewards"]): account_rewards_metadata,
    AssetKey(["marts", "program_summary"]): program_summary_metadata,
    AssetKey(["intermediate", "int_short_video_orders"]): short_video_orders_metadata,
    AssetKey(["marts", "quarantine"]): quarantine_metadata,
    AssetKey(["marts", "reward_accrual"]): reward_accrual_metadata,
}


def model_metadata(con: Con, key: AssetKey) -> dict[str, Any]:
    """The metadata of one built model, read from the warehouse."""
    relation = _relation(key)
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
    metadata: dict[str, Any] = {"dagster/row_count": MetadataValue.int(int(rows))}
    if key in EXTRA:
        metadata.update(EXTRA[key](con, relation))
    return metadata


def _asset_key(context: AssetExecutionContext, event: Any) -> AssetKey | None:
    if isinstance(event, Output):
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, (AssetMaterialization, MaterializeResult)):
        return event.asset_key
    return None


def _with_metadata(event: Any, extra: dict[str, Any]) -> Any:
    metadata = {**(event.metadata or {}), **extra}
    if isinstance(event, MaterializeResult):
        return MaterializeResult(asset_key=event.asset_key, metadata=metadata)
    return event.with_metadata(metadata)


def with_warehouse_metadata(
    context: AssetExecutionContext, events: Iterator[Any], warehouse: WarehouseResource
) -> Iterator[Any]:
    """The layer's dbt events, in their order, each model's materialization with its metadata.

    If dbt fails, what it did build is still reported (with metadata), then its error raised.
    A metadata query that fails is logged and leaves that model without it: it never fails
    the build."""
    collected: list[Any] = []
    error: Exception | None = None
    try:
        for event in events:  # ends when dbt has released the warehouse file
            collected.append(event)
    except Exception as exc:
        error = exc
    keys = [key for event in collected if (key := _asset_key(context, event)) is not None]
    metadata: dict[AssetKey, dict[str, Any]] = {}
    if keys:
        try:
            with warehouse.connect(read_only=True) as con:
                for key in keys:
                    try:
                        metadata[key] = model_metadata(con, key)
                    except duckdb.Error as exc:
                        context.log.warning(f"no metadata for {key.to_user_string()}: {exc}")
        except duckdb.Error as exc:
            context.log.warning(f"no model metadata: cannot open the warehouse: {exc}")
    for event in collected:
        key = _asset_key(context, event)
        if key is not None and metadata.get(key):
            event = _with_metadata(event, metadata[key])
        yield event
    if error is not None:
        raise error
