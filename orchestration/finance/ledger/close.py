"""`rewards close YYYY-MM --by NAME`: the month-end close, kept (D50).

The campaign straddles the November close. `marts.reward_accrual` gives the liability day by day
(D40), and it moves with every later refund and settlement, while the books keep what was
booked. So closing a month appends to the ledger, on the digest chain, the accrual's figures as
the serving copy has them now for the month's last day -- the latest accrual day on or before it
(no counted order was created after that day): points to date, the projection, window GMV to
date and the accounts earning -- with the build they come from, who closed it and when. A month
is closed once; a month that has not ended (Beijing time) or that ends before the window starts
is refused. Every later reader compares each closed month's booked figure with today's figure
for the same day: the difference is the next month's true-up (finance/closes.py).
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ...serving_layout import local_now
from ..serving import open_serving_copy, read_build_info, require_marts, rows_as_dicts
from .appending import appending
from .chain import close_record, record_digest
from .schema import Actor, LedgerError, one

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Closed:
    close_id: int
    month: str
    month_end: date
    accrual_date: date | None
    points_to_date: int
    projected_points: int


def month_end(month: str) -> date:
    """The last day of `month` (YYYY-MM); ValueError, one line, for anything else."""
    match = _MONTH.fullmatch(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"the month to close must be YYYY-MM, e.g. 2025-11; got {month!r}")
    year, number = int(match.group(1)), int(match.group(2))
    return date(year, number, calendar.monthrange(year, number)[1])


def close_month(serving_copy: Path, ledger: Path, month: str, actor: Actor) -> Closed:
    last_day = month_end(month)
    month = f"{last_day:%Y-%m}"
    with open_serving_copy(serving_copy) as served:
        build = read_build_info(served)
        require_marts(served, "reward_accrual")
        v = build.rule_vars
        campaign_start = date.fromisoformat(str(v["campaign_start"]))
        today = datetime.now(ZoneInfo(v["timezone"])).date()
        if last_day < campaign_start:
            raise LedgerError(
                f"{month} ends before the window starts ({campaign_start}): nothing accrues "
                "in it, so there is nothing to close"
            )
        if today <= last_day:
            raise LedgerError(
                f"{month} has not ended yet (today is {today}, Beijing time): close it from "
                f"{_next_day(last_day)} on"
            )
        rows = rows_as_dicts(
            served,
            "select * from marts.reward_accrual where accrual_date <= ? "
            "order by accrual_date desc limit 1",
            [last_day],
        )
    row = rows[0] if rows else None
    with appending(ledger) as step:
        con, head = step.con, step.head
        closed = one(
            con,
            "select closed_by, closed_at, points_to_date from ledger.month_closes where month = ?",
            [month],
        )
        if closed is not None:
            by, at, points = closed
            raise LedgerError(
                f"{month} was closed by {by} at {at} ({points:,} points to date): a month is "
                "closed once; its true-up goes into the next month"
            )
        (close_id,) = one(con, "select coalesce(max(close_id), 0) + 1 from ledger.month_closes")
        record = {
            "close_id": close_id,
            "month": month,
            "month_end": last_day,
            "accrual_date": row["accrual_date"] if row else None,
            "days_elapsed": row["days_elapsed"] if row else None,
            "window_gmv_to_date": row["window_gmv_to_date"] if row else 0,
            "points_to_date": row["points_to_date"] if row else 0,
            "projected_points": row["projected_points"] if row else 0,
            "accounts_earning": row["accounts_earning"] if row else 0,
            "dagster_run_id": build.dagster_run_id,
            "marts_built_at": build.built_at,
            "code_version": build.code_version,
            "rule_vars": json.dumps(build.rule_vars, sort_keys=True),
            "closed_by": actor.name,
            "os_user": actor.os_user,
            "host": actor.host,
            "closed_at": local_now(v["timezone"]),
        }
        digest = record_digest(head, close_record(record))
        con.execute(
            f"insert into ledger.month_closes values ({', '.join('?' * (len(record) + 2))})",
            [*record.values(), head, digest],
        )
        step.action = f"{month} closed by {actor.name}"
    return Closed(
        close_id,
        month,
        last_day,
        record["accrual_date"],
        record["points_to_date"],
        record["projected_points"],
    )


def _next_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)
