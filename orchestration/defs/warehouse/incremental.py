"""When an incremental build of the order models would be wrong, and a full one is needed
(D16, D29).

The intermediate layer's order models are built incrementally: `int_orders_current` recomputes
the orders found in files loaded since its `loaded_through`; `int_video_changes`,
`int_short_video_orders`, `int_account_gmv`, `int_account_daily_gmv`,
`int_order_version_conflicts` and the reconciliation's `int_account_window_check` and
`int_order_count` take what changed after the load recorded for them in
`intermediate.incremental_state`. That is only right while the tables still describe the raw
data they were built from, with the same rules. These break it:

* the orders were reloaded in full (a landing file changed or disappeared): load ids start over
  for every file and orders that vanished from the landing would linger;
* the run's rule vars differ from the ones the tables were built with: the Beijing days
  (`timezone`, R1), the periods (R5), the settlement cutoff (R3) or the quota tiers (R6);
* a table was built by a version of the project without incremental builds, or before its sums
  of money were decimal(38,2) (D59, D60): the rows an incremental build inserts would be cast
  to the table's narrower columns, and a sum past decimal(18,2) would fail every run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from ..landing import bookkeeping

INCREMENTAL_TABLE = "intermediate.int_orders_current"
STATE_TABLE = "intermediate.incremental_state"
# every model recording its build in STATE_TABLE (macro record_watermark)
STATE_MODELS = (
    "int_video_changes",
    "int_short_video_orders",
    "int_account_gmv",
    "int_account_daily_gmv",
    "int_order_version_conflicts",
    "int_account_window_check",
    "int_order_count",
)
# the sums of money those models keep, and their type since D59: tables built before it have
# DECIMAL(18,2) columns there
MONEY_SUMS = {
    "int_account_gmv": ("baseline_period_gmv", "window_gmv", "over_quota_gmv"),
    "int_account_daily_gmv": ("window_gmv",),
    "int_account_window_check": ("window_settled_gmv",),
}
MONEY_SUM_TYPE = "DECIMAL(38,2)"
# the vars those models' rows depend on, as macro incremental_build_vars renders them
BUILD_VARS = (
    "timezone",
    "baseline_start",
    "baseline_end",
    "campaign_start",
    "campaign_end",
    "settlement_cutoff",
    "quota_tiers",
)


def build_vars(rule_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The incremental models' vars of this run, as the state table records them."""
    values: dict[str, Any] = {}
    for name in BUILD_VARS:
        value = rule_vars[name]
        if name == "quota_tiers":
            values[name] = json.loads(value) if isinstance(value, str) else value
        else:
            values[name] = str(value)
    return json.loads(json.dumps(values))


def full_refresh_reason(warehouse: Path, rule_vars: Mapping[str, Any]) -> str | None:
    """Why the next intermediate build must be a full refresh; None when incremental is right."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'intermediate'"
            ).fetchall()
        }
        if "int_orders_current" not in tables:
            return None  # first build: dbt builds them in full anyway
        columns = {
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() "
                "where schema_name = 'intermediate' and table_name = 'int_orders_current'"
            ).fetchall()
        }
        if not {"loaded_through", "day_timezone"} <= columns:
            return f"{INCREMENTAL_TABLE} was built before incremental builds"
        narrow = _narrow_money_sum(con)
        if narrow:
            return narrow
        state_columns = {
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() "
                "where schema_name = 'intermediate' and table_name = 'incremental_state'"
            ).fetchall()
        }
        recorded = (
            dict(con.execute(f"select model, build_vars from {STATE_TABLE}").fetchall())
            if "full_build_at" in state_columns
            else {}
        )
        unrecorded = [m for m in STATE_MODELS if m not in recorded]
        if unrecorded:
            return (
                f"intermediate.{unrecorded[0]} has no incremental build recorded "
                f"(built before incremental builds of the short-video orders)"
            )
        watermark, timezones = con.execute(
            f"select max(loaded_through), list(distinct day_timezone) from {INCREMENTAL_TABLE}"
        ).fetchone()
        last_full = bookkeeping.last_full_load_id(con, "orders")
    if last_full is not None and (watermark is None or last_full > watermark):
        return (
            f"the orders were reloaded in full (load {last_full}) after "
            f"{INCREMENTAL_TABLE} was built (through load {watermark})"
        )
    timezone = str(rule_vars["timezone"])
    if timezones and timezones != [timezone]:
        return (
            f"{INCREMENTAL_TABLE} has Beijing days computed in {', '.join(timezones)}, "
            f"this run's timezone var is {timezone}"
        )
    wanted = build_vars(rule_vars)
    for model in STATE_MODELS:
        built = json.loads(recorded[model])
        changed = sorted(k for k in wanted if built.get(k) != wanted[k])
        if changed:
            return (
                f"intermediate.{model} was built with other rule vars "
                f"({', '.join(f'{k}={built.get(k)}' for k in changed)}; this run: "
                f"{', '.join(f'{k}={wanted[k]}' for k in changed)})"
            )
    return None


def _narrow_money_sum(con: duckdb.DuckDBPyConnection) -> str | None:
    """The first sum of money an incremental model keeps in a type other than MONEY_SUM_TYPE."""
    wanted = [(table, column) for table, columns in MONEY_SUMS.items() for column in columns]
    types = dict(
        ((table, column), kind)
        for table, column, kind in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'intermediate'"
        ).fetchall()
        if (table, column) in wanted
    )
    for table, column in wanted:
        kind = types.get((table, column))
        if kind is not None and kind != MONEY_SUM_TYPE:
            return (
                f"intermediate.{table}.{column} is {kind}, built before sums of money were "
                f"{MONEY_SUM_TYPE}"
            )
    return None


def forget_state(con: duckdb.DuckDBPyConnection) -> None:
    """Before a full refresh: the models record their builds afresh (macro record_watermark)."""
    con.execute(f"drop table if exists {STATE_TABLE}")
