"""The Excel workbook finance keeps (`rewards export --out FILE.xlsx`), read back with openpyxl:
money as numbers formatted #,##0.00, points #,##0, instants as Beijing date-times, the header
frozen with filters on, widths that fit, the summary first with its control totals and the
rule vars as numbers and dates, a totals row under the rewards, and a sheet each for the payout
history, the adjustments and the accrual -- and every cell the value the CSV export holds.
On the finance landing's day-2 run (tests/support/finance_cases.py), after two payout runs;
the control totals also with a run pending, an adjustment waiting and an account gone (D67)."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
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
    cli_ok("ledger", "init", "--by", "alice", *flag)
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


@pytest.fixture(scope="module")
def moved_on(finance_runs, tmp_path_factory):
    """A second ledger on the day-2 rewards, which moved on: run 1 (fin_a 9, fin_b 39) and run 2
    (an adjustment of fin_b, +5) approved; then fin_b leaves account_rewards (as when its every
    enrollment is withdrawn: its row is deleted from the serving copy, which is all the export
    reads; a pipeline run for it would cost ~20 s), run 3 is published -- fin_b's clawback and
    an adjustment of fin_a, -2 -- and waits for approval, and an adjustment of fin_c, +3, waits
    for a publish."""
    root = tmp_path_factory.mktemp("moved_on")
    serving = root / "warehouse.serving.duckdb"
    shutil.copyfile(finance_runs["day2_serving"], serving)
    flag = ("--warehouse", str(root / "warehouse.duckdb"))
    cli_ok("ledger", "init", "--by", "alice", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "1", "--by", "bob", *flag)
    cli_ok("adjust", "fin_b", "--points", "5", "--reason", "goodwill", "--by", "carol", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "2", "--by", "bob", *flag)
    with duckdb.connect(str(serving)) as con:
        con.execute("delete from marts.account_rewards where account_id = 'fin_b'")
    cli_ok("adjust", "fin_a", "--points", "-2", "--reason", "dispute D-2", "--by", "carol", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("adjust", "fin_c", "--points", "3", "--reason", "goodwill", "--by", "carol", *flag)
    cli_ok("export", "--out", str(root / "rewards.xlsx"), *flag)
    return root


def _sheet(book, name):
    """The sheet, its header and its data rows (those above a blank row: the rewards sheet's
    totals row is below one)."""
    sheet = book[name]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    data = []
    for row in rows[1:]:
        if all(c.value is None for c in row):
            break
        data.append(row)
    return sheet, header, data


def _totals_row(book):
    """The rewards sheet's totals row, {column: cell}, and what is between it and the rows."""
    sheet, header, data = _sheet(book, "account_rewards")
    rows = list(sheet.iter_rows())
    below = rows[1 + len(data) :]
    return dict(zip(header, below[-1], strict=True)), below[:-1]


def _labels(book):
    """The summary's labelled values, {label: cell}."""
    return {r[0].value: r[1] for r in book["summary"].iter_rows() if r[0].value and len(r) > 1}


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


def test_rule_vars_and_the_build_time_are_numbers_and_dates(exported):
    labels = _labels(load_workbook(exported / "rewards.xlsx"))
    rate = labels["rule var reward_rate"]
    assert isinstance(rate.value, float) and Decimal(str(rate.value)) == Decimal("0.015")
    assert rate.number_format == "0.0#####"  # shows 0.015
    for name, value in (("reward_cap_points", 150_000), ("min_followers", 1_000)):
        cell = labels[f"rule var {name}"]
        assert (type(cell.value), cell.value, cell.number_format) == (int, value, "#,##0"), name
    for name, day in (
        ("campaign_start", datetime(2025, 11, 22)),
        ("campaign_end", datetime(2025, 12, 31)),
        ("baseline_start", datetime(2025, 8, 1)),
        ("baseline_end", datetime(2025, 10, 31)),
        ("settlement_cutoff", datetime(2026, 1, 31)),
    ):
        cell = labels[f"rule var {name}"]
        assert (cell.value, cell.number_format) == (day, "yyyy-mm-dd"), name
    tiers = labels["rule var quota_tiers"]
    assert tiers.value == "[[0, 1], [1000, 2], [10000, 5], [100000, 10]]"
    assert labels["rule var timezone"].value == "Asia/Shanghai"

    # the build time: the serving copy's ISO instant, as a Beijing wall-clock date-time
    with duckdb.connect(str(exported / "warehouse.serving.duckdb"), read_only=True) as con:
        (built_at,) = con.execute("select built_at from serving.build").fetchone()
    built = labels["marts built at"]
    instant = datetime.fromisoformat(built_at)
    assert instant.utcoffset().total_seconds() == 8 * 3600  # written in Beijing time
    assert built.value == instant.replace(tzinfo=None)
    assert built.number_format == "yyyy-mm-dd hh:mm:ss"


def test_summary_history_adjustments_and_accrual_sheets(exported):
    book = load_workbook(exported / "rewards.xlsx")
    summary = [[c.value for c in row] for row in book["summary"].iter_rows()]
    labels = {row[0]: row[1] for row in summary if row and row[0]}
    assert labels["latest approved payout run"] == 2
    assert labels["times are local to"] == "Asia/Shanghai"
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
    # its instants and rule vars as the workbook of now writes them (D67)
    cells = _labels(book)
    for label in ("published at", "decided at", "marts built at"):
        assert isinstance(cells[label].value, datetime), label
        assert cells[label].number_format == "yyyy-mm-dd hh:mm:ss", label
    assert cells["rule var campaign_end"].value == datetime(2025, 12, 31)
    assert cells["rule var reward_cap_points"].value == 150_000
    _, header, rows = _sheet(book, "payout_run_1")
    fin_b = dict(zip(header, [c.value for c in rows[1]], strict=True))
    assert (fin_b["account_id"], fin_b["run_points"], fin_b["paid_points"]) == ("fin_b", 39, 39)
    _, header, rows = _sheet(book, "input_files")
    assert header == ["dataset", "file", "size_bytes", "rows_read", "sha256"]
    assert len(rows) == 5  # day 2's serving copy: four datasets, two order files


# Hand-computed (tests/support/finance_cases.py, day 2): rewards fin_a 9, fin_b 39, fin_c 0
# (ineligible), the weird account 0: 48 points. Run 1 paid 9 + 39 = 48 and run 2 carried fin_a's
# adjustment of 1,024, both approved: paid 48 + 1,024 = 1,072, of which adjustments 1,024;
# unpaid 48 - (1,072 - 1,024) = 0; nothing pending or waiting; every paid account enrolled.
CONTROL_TOTALS = {
    "reward points (account_rewards)": 48,
    "points paid (approved payout runs)": 1_072,
    "adjustments paid (approved payout runs)": 1_024,
    "points unpaid (next publish, by the rules)": 0,
    "payout run pending approval": "none",
    "points pending approval": 0,
    "adjustments waiting for a publish": 0,
    "accounts paid, not in account_rewards": 0,
}
# The rewards sheet's totals, by hand: baseline period GMV fin_b 920.00, its baseline
# 920 x 40 / 92 = 400.00; window GMV 600.00 + 3,000.00 + 500.00 + 0 = 4,100.00; over quota
# fin_a's 300.00; reward base 600.00 + 2,600.00 + 500.00 (ineligible fin_c's too) = 3,700.00;
# uncapped points 9 + 39 + 7 + 0 = 55; points 48; paid fin_a 9 + 1,024 and fin_b 39 = 1,072.
TOTALS_ROW = {
    "baseline_period_gmv": ("920.00", "#,##0.00"),
    "baseline_gmv": ("400.00", "#,##0.00"),
    "window_gmv": ("4100.00", "#,##0.00"),
    "over_quota_gmv": ("300.00", "#,##0.00"),
    "reward_base": ("3700.00", "#,##0.00"),
    "reward_points_uncapped": (55, "#,##0"),
    "reward_points": (48, "#,##0"),
    "paid_points": (1_072, "#,##0"),
    "adjustment_points": (1_024, "#,##0"),
    "unpaid_points": (0, "#,##0"),
}
# the summary's figure each column of the totals row equals
SAME_AS_SUMMARY = {
    "reward_points": "reward points (account_rewards)",
    "paid_points": "points paid (approved payout runs)",
    "adjustment_points": "adjustments paid (approved payout runs)",
    "unpaid_points": "points unpaid (next publish, by the rules)",
}


def test_control_totals_equal_the_totals_row_and_the_ledger(exported):
    book = load_workbook(exported / "rewards.xlsx")
    labels = _labels(book)
    assert {label: labels[label].value for label in CONTROL_TOTALS} == CONTROL_TOTALS
    for label, expected in CONTROL_TOTALS.items():
        if isinstance(expected, int):  # numbers, not text
            assert type(labels[label].value) is int and labels[label].number_format == "#,##0"
    assert "points paid, not in account_rewards" not in labels  # only when there are such

    totals, between = _totals_row(book)
    assert [[c.value for c in row] for row in between] == [[None] * len(totals)]  # one blank row
    assert totals["account_id"].value == "total, 4 accounts"
    assert totals["account_id"].font.b
    for column, (value, number_format) in TOTALS_ROW.items():
        cell = totals[column]
        if isinstance(value, str):  # money: a number that reads back as the exact amount
            assert isinstance(cell.value, int | float), column
            assert Decimal(str(cell.value)) == Decimal(value), (column, cell.value)
        else:
            assert (type(cell.value), cell.value) == (int, value), column
        assert cell.number_format == number_format, column
    summed = set(TOTALS_ROW) | {"account_id"}
    assert all(cell.value is None for column, cell in totals.items() if column not in summed)

    # the totals row is the sum of the rows above it, and the summary's figures
    _, header, rows = _sheet(book, "account_rewards")
    for column in TOTALS_ROW:
        i = header.index(column)
        assert sum(Decimal(str(r[i].value)) for r in rows) == Decimal(str(totals[column].value))
    for column, label in SAME_AS_SUMMARY.items():
        assert totals[column].value == labels[label].value, column

    # and the ledger's own tables: both runs approved, so paid is every line of both
    _, header, rows = _sheet(book, "payout_history")
    assert {r[header.index("state")].value for r in rows} == {"approved"}
    with duckdb.connect(str(exported / "warehouse.ledger.duckdb"), read_only=True) as con:
        entries, adjusted = con.execute(
            "select (select sum(points) from ledger.entries), "
            "(select sum(points) from ledger.adjustment_entries)"
        ).fetchone()
    assert (entries + adjusted, adjusted) == (48 + 1_024, 1_024)
    assert labels["points paid (approved payout runs)"].value == entries + adjusted
    assert labels["adjustments paid (approved payout runs)"].value == adjusted


def test_control_totals_with_a_run_pending_an_adjustment_waiting_and_an_account_gone(moved_on):
    """Hand-computed: approved, run 1 (fin_a 9, fin_b 39) and run 2 (fin_b +5): paid 53, of which
    adjustments 5. Now account_rewards holds fin_a 9, fin_c 0 and the weird account 0: reward
    points 9, and on the sheet paid 9, adjustments 0, unpaid 9 - 9 = 0. fin_b, gone, was paid
    39 + 5 = 44, of which 5 adjustments; the next publish claws back its rule-based 39: unpaid
    -39. Run 3, pending: fin_b's clawback -39 and fin_a's adjustment -2 = -41. Waiting: fin_c
    +3. So the sheet's totals plus fin_b's part make the summary: 9 + 44 = 53, 0 + 5 = 5,
    0 - 39 = -39."""
    book = load_workbook(moved_on / "rewards.xlsx")
    labels = {label: cell.value for label, cell in _labels(book).items()}
    expected = {
        "reward points (account_rewards)": 9,
        "points paid (approved payout runs)": 53,
        "adjustments paid (approved payout runs)": 5,
        "points unpaid (next publish, by the rules)": -39,
        "payout run pending approval": 3,
        "points pending approval": -41,
        "adjustments waiting for a publish": 3,
        "accounts paid, not in account_rewards": 1,
        "points paid, not in account_rewards": 44,
        "adjustments paid, not in account_rewards": 5,
        "points unpaid, not in account_rewards": -39,
    }
    assert {label: labels[label] for label in expected} == expected
    assert _labels(book)["payout run pending approval"].number_format == "0"

    totals, _ = _totals_row(book)
    assert totals["account_id"].value == "total, 3 accounts"
    sheet = {column: totals[column].value for column in SAME_AS_SUMMARY}
    assert sheet == {
        "reward_points": 9,
        "paid_points": 9,
        "adjustment_points": 0,
        "unpaid_points": 0,
    }
    outside = {
        "paid_points": "points paid, not in account_rewards",
        "adjustment_points": "adjustments paid, not in account_rewards",
        "unpaid_points": "points unpaid, not in account_rewards",
    }
    for column, label in outside.items():
        assert sheet[column] + labels[label] == labels[SAME_AS_SUMMARY[column]], column
