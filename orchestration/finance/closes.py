"""The month-end closes and their true-ups (D50): each closed month's booked figures from the
ledger (`rewards close`) beside today's figures for the same day from the serving copy's
`marts.reward_accrual`; the difference is the next month's true-up. Read by the workbook's
accrual sheet, the statements index and `rewards ledger`."""

from __future__ import annotations

from typing import Any

import duckdb

from .ledger.schema import existing_tables
from .serving import has_ledger, rows_as_dicts

CLOSES_QUERY = """
    select
        closes.month,
        closes.month_end,
        closes.accrual_date as booked_accrual_date,
        closes.points_to_date as booked_points,
        closes.projected_points as booked_projected_points,
        closes.window_gmv_to_date as booked_window_gmv,
        closes.closed_by,
        closes.closed_at,
        today.accrual_date as today_accrual_date,
        coalesce(today.points_to_date, 0) as today_points,
        coalesce(today.window_gmv_to_date, 0) as today_window_gmv,
        coalesce(today.points_to_date, 0) - closes.points_to_date as true_up_points,
        coalesce(today.window_gmv_to_date, 0) - closes.window_gmv_to_date as true_up_window_gmv
    from payouts.ledger.month_closes as closes
    asof left join marts.reward_accrual as today
        on closes.month_end >= today.accrual_date
    order by closes.month
"""


def month_closes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every closed month with its true-up (`con`: a serving-copy reader with the ledger
    attached); none when there is no ledger or no close yet."""
    if not has_ledger(con) or "month_closes" not in existing_tables(con, "payouts.ledger"):
        return []
    return rows_as_dicts(con, CLOSES_QUERY)
