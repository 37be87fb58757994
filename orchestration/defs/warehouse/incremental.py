"""When an incremental build of the order models would be wrong, and a full one is needed (D16).

`int_orders_current` is built incrementally: a run recomputes the orders found in files loaded
since the table's `loaded_through`. That is only right while the table still describes the raw
orders it was built from, with the same Beijing-day rule. Two events break it:

* the orders were reloaded in full (a landing file changed or disappeared): load ids start over
  for every file and orders that vanished from the landing would linger;
* the run's `timezone` var differs from the one the table's *_day columns were computed in (R1).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

INCREMENTAL_TABLE = "intermediate.int_orders_current"


def full_refresh_reason(warehouse: Path, timezone: str) -> str | None:
    """Why the next intermediate build must be a full refresh; None when incremental is right."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = {name for (name,) in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = 'intermediate' and table_name = 'int_orders_current'").fetchall()}
        if not columns:
            return None  # first build: dbt builds it in full anyway
        if not {"loaded_through", "day_timezone"} <= columns:
            return f"{INCREMENTAL_TABLE} was built before incremental builds"
        watermark, timezones = con.execute(
            f"select max(loaded_through), list(distinct day_timezone) from {INCREMENTAL_TABLE}"
        ).fetchone()
        last_full = con.execute(
            "select last_full_load_id from raw.load_log where dataset = 'orders'").fetchone()
    if last_full and last_full[0] is not None and (watermark is None or last_full[0] > watermark):
        return (f"the orders were reloaded in full (load {last_full[0]}) after "
                f"{INCREMENTAL_TABLE} was built (through load {watermark})")
    if timezones and timezones != [timezone]:
        return (f"{INCREMENTAL_TABLE} has Beijing days computed in {', '.join(timezones)}, "
                f"this run's timezone var is {timezone}")
    return None
