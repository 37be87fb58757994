"""Excel workbooks a finance team keeps (`rewards export --out FILE.xlsx`).

Every sheet is written from a DuckDB query, streamed (openpyxl's write-only mode), as numbers
finance can add up: money as numbers formatted `#,##0.00`, points and counts `#,##0`, instants
as Excel date-times in the programme's time zone (Beijing, R1) -- Excel has no time zones, so
the sheet says which one --, the header row frozen, filters on, and each column as wide as its
longest value. Excel stores numbers as binary floats: amounts below 10^13 CNY keep their two
decimals exactly, which is what openpyxl reads back; CSV and Parquet stay the exact record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..formatting import MONEY_UNIT
from ..serving_layout import read_program_summary

MONEY_FORMAT = "#,##0.00"
POINTS_FORMAT = "#,##0"
ID_FORMAT = "0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
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


def sheet_from_query(book: Workbook, con: duckdb.DuckDBPyConnection, name: str, query: str) -> int:
    """Write `query`'s rows as sheet `name`; returns the rows written. Instants (timestamptz)
    become local date-times of the connection's time zone (the programme's, set by the serving
    copy's reader)."""
    described = con.execute(f"describe ({query})").fetchall()
    columns = [(row[0], str(row[1])) for row in described]
    local = [c for c, kind in columns if kind == "TIMESTAMP WITH TIME ZONE"]
    if local:
        replaced = ", ".join(f'cast("{c}" as timestamp) as "{c}"' for c in local)
        query = f"select * replace ({replaced}) from ({query})"
        columns = [(c, "TIMESTAMP" if c in local else kind) for c, kind in columns]
    lengths = con.execute(
        "select count(*), "
        + ", ".join(f'max(length(cast("{c}" as varchar)))' for c, _ in columns)
        + f" from ({query})"
    ).fetchall()[0]
    count = lengths[0]
    if count > EXCEL_MAX_ROWS:
        raise TooManyRows(
            f"{count:,} rows do not fit the Excel sheet {name}; export .csv or .parquet"
        )
    sheet = book.create_sheet(name)
    formats = [_number_format(c, kind) for c, kind in columns]
    for i, ((column, kind), longest) in enumerate(zip(columns, lengths[1:], strict=True)):
        longest = longest or 0
        if formats[i] in (MONEY_FORMAT, POINTS_FORMAT):
            longest += longest // 3  # thousands separators
        if kind == "TIMESTAMP":
            longest = len("2025-11-22 00:00:00")
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
    return count


def _cell(sheet, value: Any, number_format: str | None):
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def key_value_sheet(book: Workbook, name: str, title: str, rows: Sequence[tuple[str, Any]]) -> Any:
    """A first sheet of labelled values (the run, the build, the rule vars), returned so that
    tables can follow on it."""
    sheet = book.create_sheet(name)
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 64  # program_summary's labels (summary_table)
    sheet.column_dimensions["C"].width = 18
    sheet.column_dimensions["D"].width = 10
    _header(sheet, [title, ""])
    for label, value in rows:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, int) and not isinstance(value, bool):
            cell.number_format = ID_FORMAT if label.endswith(("run", "run id")) else POINTS_FORMAT
        sheet.append([label, cell])
    return sheet


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
