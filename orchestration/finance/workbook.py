"""Excel workbooks a finance team keeps (`rewards export --out FILE.xlsx`).

Every sheet is written from a DuckDB query, streamed (openpyxl's write-only mode), as numbers
finance can add up: money as numbers formatted `#,##0.00`, points and counts `#,##0`, instants
as Excel date-times in the programme's time zone (Beijing, R1) -- Excel has no time zones, so
the sheet says which one --, the header row frozen, filters on, and each column as wide as its
longest value. Excel stores numbers as binary floats: amounts below 10^13 CNY keep their two
decimals exactly, which is what openpyxl reads back; CSV and Parquet stay the exact record. A
sheet's totals row holds values DuckDB summed exactly, not formulas (D67).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..formatting import MONEY_UNIT
from ..rule_vars import DATE_VARS, INTEGER_VARS
from ..serving_layout import read_program_summary

MONEY_FORMAT = "#,##0.00"
POINTS_FORMAT = "#,##0"
ID_FORMAT = "0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
RATE_FORMAT = "0.0#####"  # reward_rate: up to 6 places (D32), 0.015 shown as 0.015
EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows below its header
MAX_WIDTH = 60
BOLD = Font(bold=True)


class TooManyRows(ValueError):
    pass


def _number_format(name: str, kind: str) -> str | None:
    if kind.startswith("DECIMAL"):
        # whole points wider than a bigint are DECIMAL(38,0) (D59)
        return POINTS_FORMAT if kind.endswith(",0)") else MONEY_FORMAT
    if kind in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "UBIGINT", "UINTEGER"):
        return ID_FORMAT if name.endswith("_id") else POINTS_FORMAT
    if kind == "TIMESTAMP":
        return DATETIME_FORMAT
    if kind == "DATE":
        return DATE_FORMAT
    return None


def _header(sheet, names: Iterable[str]) -> None:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = BOLD
        cells.append(cell)
    sheet.append(cells)


def sheet_from_query(
    book: Workbook,
    con: duckdb.DuckDBPyConnection,
    name: str,
    query: str,
    totals_of: str | None = None,
    below: Callable[[Any], None] | None = None,
) -> int:
    """Write `query`'s rows as sheet `name`; returns the rows written. Instants (timestamptz)
    become local date-times of the connection's time zone (the programme's, set by the serving
    copy's reader). With `totals_of` (what a row is: "accounts"), a blank row and a totals row
    follow the rows: "total, N accounts" and, under each money and points column, its sum,
    exact in DuckDB, as a number in the column's format (D67)."""
    described = con.execute(f"describe ({query})").fetchall()
    columns = [(row[0], str(row[1])) for row in described]
    local = [c for c, kind in columns if kind == "TIMESTAMP WITH TIME ZONE"]
    if local:
        replaced = ", ".join(f'cast("{c}" as timestamp) as "{c}"' for c in local)
        query = f"select * replace ({replaced}) from ({query})"
        columns = [(c, "TIMESTAMP" if c in local else kind) for c, kind in columns]
    formats = [_number_format(c, kind) for c, kind in columns]
    summed = [
        i
        for i, fmt in enumerate(formats)
        if totals_of is not None and fmt in (MONEY_FORMAT, POINTS_FORMAT)
    ]
    measured = con.execute(
        "select count(*), "
        + ", ".join(
            [f'max(length(cast("{c}" as varchar)))' for c, _ in columns]
            + [f'coalesce(sum("{columns[i][0]}"), 0)' for i in summed]
        )
        + f" from ({query})"
    ).fetchall()[0]
    count, lengths = measured[0], measured[1 : len(columns) + 1]
    totals = dict(zip(summed, measured[len(columns) + 1 :], strict=True))
    totals_row = totals_of is not None
    if count + (2 if totals_row else 0) > EXCEL_MAX_ROWS:
        raise TooManyRows(
            f"{count:,} rows do not fit the Excel sheet {name}; export .csv or .parquet"
        )
    label = f"total, {count:,} {totals_of}"
    sheet = book.create_sheet(name)
    for i, ((column, kind), longest) in enumerate(zip(columns, lengths, strict=True)):
        longest = max(longest or 0, len(str(totals.get(i, ""))))
        if formats[i] in (MONEY_FORMAT, POINTS_FORMAT):
            longest += longest // 3  # thousands separators
        if kind == "TIMESTAMP":
            longest = len("2025-11-22 00:00:00")
        if i == 0 and totals_row:
            longest = max(longest, len(label))
        width = min(MAX_WIDTH, max(len(column), longest) + 2)
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    _header(sheet, [c for c, _ in columns])
    result = con.execute(query)
    while batch := result.fetchmany(10_000):
        for row in batch:
            sheet.append(
                [_cell(sheet, value, fmt) for value, fmt in zip(row, formats, strict=True)]
            )
    if totals_row:
        # below the filtered range, after a blank row: sorting and filtering leave it in place
        sheet.append([])
        cells = [WriteOnlyCell(sheet, value=label)]
        for i in range(1, len(columns)):
            cells.append(WriteOnlyCell(sheet, value=totals.get(i)))
            if i in totals:
                cells[-1].number_format = formats[i]
        for cell in cells:
            cell.font = BOLD
        sheet.append(cells)
    if below is not None:  # a table of its own under the rows, after a blank row
        below(sheet)
    return count


def closes_table(sheet, closes: Sequence[Mapping[str, Any]], timezone: str) -> None:
    """The month-end closes under the accrual (D50): per closed month the booked figures, today's
    for the same day and the difference, the next month's true-up; numbers and dates typed."""
    if not closes:
        return
    sheet.append([])
    title = WriteOnlyCell(sheet, value="month-end closes: booked, today for the same day, true-up")
    title.font = BOLD
    sheet.append([title])
    columns = [
        ("month", None),
        ("month_end", DATE_FORMAT),
        ("booked_accrual_date", DATE_FORMAT),
        ("booked_points", POINTS_FORMAT),
        ("today_accrual_date", DATE_FORMAT),
        ("today_points", POINTS_FORMAT),
        ("true_up_points", POINTS_FORMAT),
        ("booked_window_gmv", MONEY_FORMAT),
        ("today_window_gmv", MONEY_FORMAT),
        ("true_up_window_gmv", MONEY_FORMAT),
        ("closed_by", None),
        ("closed_at", DATETIME_FORMAT),
    ]
    _header(sheet, [name for name, _ in columns])
    for close in closes:
        values = dict(close, closed_at=local_datetime(close["closed_at"], timezone))
        sheet.append([_cell(sheet, values[name], fmt) for name, fmt in columns])


def _cell(sheet, value: Any, number_format: str | None):
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def key_value_sheet(
    book: Workbook, name: str, title: str, rows: Sequence[tuple[str, Any] | tuple[str, Any, str]]
) -> Any:
    """A first sheet of labelled values (the run, the build, the control totals, the rule vars),
    returned so that tables can follow on it. A value is written as what it is: a number, a
    date-time or a date with its format (a row's third item, else by its type: whole numbers
    as counts, or ids for a label ending in "run"), text as text."""
    sheet = book.create_sheet(name)
    sheet.column_dimensions["A"].width = max([30, *(len(row[0]) + 2 for row in rows)])
    sheet.column_dimensions["B"].width = 64  # program_summary's labels (summary_table)
    sheet.column_dimensions["C"].width = 18
    sheet.column_dimensions["D"].width = 10
    _header(sheet, [title, ""])
    for label, value, *given in rows:
        cell = WriteOnlyCell(sheet, value=value)
        if given:
            cell.number_format = given[0]
        elif isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, int) and not isinstance(value, bool):
            cell.number_format = ID_FORMAT if label.endswith(("run", "run id")) else POINTS_FORMAT
        sheet.append([label, cell])
    return sheet


def local_datetime(instant: str, timezone: str) -> datetime:
    """An ISO-8601 instant (`2025-12-07T10:11:12+08:00`, as the serving copy and the ledger write
    them) as the Excel date-time a person reads: the wall clock in the programme's time zone."""
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def rule_var_rows(rule_vars: Mapping[str, Any]) -> list[tuple[str, Any, str] | tuple[str, Any]]:
    """One row per rule var, as what it is (D67): dates as dates, `reward_rate` as an exact
    number, the cap and the follower threshold as whole numbers; `timezone` and `quota_tiers`
    (a list of pairs, as JSON) as text."""
    rows: list[tuple[str, Any, str] | tuple[str, Any]] = []
    for key, value in sorted(rule_vars.items()):
        label = f"rule var {key}"
        if key in DATE_VARS:
            rows.append((label, date.fromisoformat(str(value)), DATE_FORMAT))
        elif key in INTEGER_VARS:
            rows.append((label, int(value), POINTS_FORMAT))
        elif key == "reward_rate":
            rows.append((label, Decimal(str(value)), RATE_FORMAT))
        elif isinstance(value, str):
            rows.append((label, value))
        else:
            rows.append((label, json.dumps(value)))
    return rows


def summary_table(sheet, con: duckdb.DuckDBPyConnection) -> None:
    """marts.program_summary below the labelled values, each figure by its label, which names
    the population it counts (D61): CNY as money, the rest as counts."""
    sheet.append([])
    _header(sheet, ["metric", "figure", "value", "unit"])
    for figure in read_program_summary(con):
        money = figure.unit == MONEY_UNIT
        cell = WriteOnlyCell(sheet, value=figure.value if money else int(figure.value))
        cell.number_format = MONEY_FORMAT if money else POINTS_FORMAT
        sheet.append([figure.metric, figure.label, cell, figure.unit])
