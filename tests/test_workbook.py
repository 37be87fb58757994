"""The Excel workbook finance keeps (`rewards export --out FILE.xlsx`), read back with openpyxl:
money as numbers formatted #,##0.00, points #,##0, instants as Beijing date-times, the header
frozen with filters on, widths that fit, the summary first and a sheet each for the payout
history, the adjustments and the accrual -- and every cell the value the CSV export holds.
On the finance landing's day-2 run (tests/support/finance_cases.py), after two payout runs."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from support.finance_cases import WEIRD_ACCOUNT
from support.pipeline import cli_ok

MONEY = {"baseline_period_gmv", "baseline_gmv", "window_gmv", "over_quota_gmv", "reward_base"}
POINTS = {
    "reward_points_uncapped",
    "reward_points",
    "paid_points",
    "adjustment_points",
    "unpaid_points",
}


@pytest.fixture(scope="module")
def exported(finance_runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("workbook")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(finance_runs["day2_serving"], root / "warehouse.serving.duckdb")
    flag = ("--warehouse", str(warehouse))
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "1", "--by", "bob", *flag)
    adjustment = ("fin_a", "--points", "1024", "--reason", "dispute D-1", "--ref", "T-9")
    cli_ok("adjust", *adjustment, "--by", "carol", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "2", "--by", "bob", *flag)
    for suffix in ("csv", "xlsx"):
        cli_ok("export", "--out", str(root / f"rewards.{suffix}"), *flag)
    cli_ok("export", "--payout-run", "1", "--out", str(root / "run1.xlsx"), *flag)
    return root


def _sheet(book, name):
    sheet = book[name]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return sheet, header, rows[1:]


def test_sheets_in_order_with_the_header_frozen_and_filters_on(exported):
    book = load_workbook(exported / "rewards.xlsx")
    sheets = ["summary", "account_rewards", "payout_history", "adjustments", "accrual"]
    assert book.sheetnames == sheets
    for name in book.sheetnames[1:]:
        sheet, header, rows = _sheet(book, name)
        assert sheet.freeze_panes == "A2", name
        last = sheet.cell(row=1, column=len(header)).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{len(rows) + 1}", name
    sheet, header, _ = _sheet(book, "account_rewards")
    widths = {h: sheet.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(header)}
    assert widths["account_id"] >= len(WEIRD_ACCOUNT)  # the longest id fits
    assert widths["enrolled_at"] >= len("2025-11-20 10:00:00")
    assert widths["is_eligible"] >= len("is_eligible")


def test_every_cell_is_the_value_of_the_csv_export(exported):
    with open(exported / "rewards.csv", newline="") as f:
        expected = list(csv.DictReader(f))
    sheet, header, rows = _sheet(load_workbook(exported / "rewards.xlsx"), "account_rewards")
    assert header == list(expected[0].keys())
    assert len(rows) == len(expected) == 4
    beijing = ZoneInfo("Asia/Shanghai")
    for csv_row, cells in zip(expected, rows, strict=True):
        for column, cell in zip(header, cells, strict=True):
            text = csv_row[column]
            value = cell.value
            if text == "":
                assert value is None, (column, value)
            elif column in MONEY:
                assert Decimal(str(value)) == Decimal(text), (column, value, text)
                assert cell.number_format == "#,##0.00"
            elif column in POINTS:
                assert value == int(text) and cell.number_format == "#,##0", (column, value)
            elif column == "payout_run_id":
                assert value == int(text)
            elif column == "enrolled_at":  # an instant in CSV, a Beijing date-time in Excel
                instant = datetime.fromisoformat(text.replace("+08", "+08:00"))
                assert value == instant.astimezone(beijing).replace(tzinfo=None)
                assert cell.number_format == "yyyy-mm-dd hh:mm:ss"
            elif text in ("true", "false"):
                assert value is (text == "true"), (column, value)
            else:
                assert value == text, (column, value, text)
    fin_a = dict(zip(header, [c.value for c in rows[0]], strict=True))
    # 1,024 points of adjustment show as 1,024, and 600.00 CNY as 600.00, not 600
    assert (fin_a["account_id"], fin_a["paid_points"], fin_a["adjustment_points"]) == (
        "fin_a",
        9 + 1024,
        1024,
    )


def test_summary_history_adjustments_and_accrual_sheets(exported):
    book = load_workbook(exported / "rewards.xlsx")
    summary = [[c.value for c in row] for row in book["summary"].iter_rows()]
    labels = {row[0]: row[1] for row in summary if row and row[0]}
    assert labels["latest approved payout run"] == 2
    assert labels["times are local to"] == "Asia/Shanghai"
    assert labels["rule var reward_rate"] == "0.015"
    (reward_base,) = [row for row in book["summary"].iter_rows() if row[0].value == "reward_base"]
    assert reward_base[2].value == 3200 and reward_base[2].number_format == "#,##0.00"
    assert reward_base[1].value == "reward base (eligible accounts)"  # its population (D61)

    _, header, rows = _sheet(book, "payout_history")
    history = [dict(zip(header, [c.value for c in r], strict=True)) for r in rows]
    lines = [(h["payout_run_id"], h["account_id"], h["entry_type"], h["points"]) for h in history]
    assert lines == [
        (1, "fin_a", "initial", 9),
        (1, "fin_b", "initial", 39),
        (2, "fin_a", "adjustment", 1024),
    ]
    assert isinstance(history[0]["published_at"], datetime) and history[0]["state"] == "approved"
    _, header, rows = _sheet(book, "adjustments")
    (adjustment,) = [dict(zip(header, [c.value for c in r], strict=True)) for r in rows]
    assert (adjustment["reason"], adjustment["reference"], adjustment["decided_by"]) == (
        "dispute D-1",
        "T-9",
        "bob",
    )
    assert isinstance(adjustment["requested_at"], datetime)

    sheet, header, rows = _sheet(book, "accrual")
    last = dict(zip(header, rows[-1], strict=True))
    assert len(rows) == 29
    assert last["points_to_date"].value == 48 and last["projected_points"].value == 68
    assert last["window_gmv_to_date"].value == 4100
    assert last["window_gmv_to_date"].number_format == "#,##0.00"
    assert last["accrual_date"].number_format == "yyyy-mm-dd"


def test_the_as_of_workbook_has_the_run_its_accounts_and_its_inputs(exported):
    book = load_workbook(exported / "run1.xlsx")
    assert book.sheetnames == ["summary", "payout_run_1", "input_files"]
    labels = {r[0].value: r[1].value for r in book["summary"].iter_rows() if r[0].value}
    assert (labels["state"], labels["published by"], labels["decided by"]) == (
        "approved",
        "alice",
        "bob",
    )
    _, header, rows = _sheet(book, "payout_run_1")
    fin_b = dict(zip(header, [c.value for c in rows[1]], strict=True))
    assert (fin_b["account_id"], fin_b["run_points"], fin_b["paid_points"]) == ("fin_b", 39, 39)
    _, header, rows = _sheet(book, "input_files")
    assert header == ["dataset", "file", "size_bytes", "rows_read", "sha256"]
    assert len(rows) == 5  # day 2's serving copy: four datasets, two order files
