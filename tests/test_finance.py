"""What finance touches, through the real pipeline on a hand-built landing
(tests/support/finance_cases.py, hand computation there): the finance marts, the serving copy,
the payout ledger across two deliveries (each run approved by a second person, with a
clawback), explain, export, simulate, and reads while a run writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterRunStatus,
    RunsFilter,
)
from support.finance_cases import DAY1_POINTS, DAY2_POINTS, WEIRD_ACCOUNT
from support.landing_builder import Landing
from support.pipeline import cli_ok, execute_selection, pipeline_env, query, run_pipeline_on

from expectations import all_suites
from orchestration.cli import main
from orchestration.finance.ledger import Actor, LedgerError, approve, publish
from orchestration.finance.ledger.start import start_ledger
from orchestration.instance import fail_abandoned_cli_runs, open_instance
from orchestration.rule_vars import rule_var_defaults
from orchestration.settings import REPO_ROOT
from orchestration.warehouse_lock import WarehouseLock, duckdb_writer_pid

PUBLISHER, APPROVER = Actor("alice", "alice", "finance-1"), Actor("bob", "bob", "finance-2")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ledger_rows(ledger: Path) -> list[tuple]:
    return query(
        ledger,
        "select payout_run_id, account_id, entry_type, points, reward_points "
        "from ledger.entries order by payout_run_id, account_id",
    )


def _served_points(serving: Path) -> dict[str, int]:
    return dict(query(serving, "select account_id, reward_points from marts.account_rewards"))


@pytest.fixture(scope="module")
def payouts(finance_runs):
    """Day 1's run published and approved (then published again), day 2's run published and
    approved (then published again), with what each step saw."""
    seen = dict(finance_runs)
    serving, ledger = seen["serving"], seen["ledger"]
    seen["day1_points"] = _served_points(seen["day1_serving"])
    seen["day2_points"] = _served_points(serving)
    start_ledger(ledger, PUBLISHER)
    seen["publish1"] = publish(seen["day1_serving"], ledger, PUBLISHER)
    approve(ledger, 1, APPROVER)
    seen["ledger_after_1"] = _ledger_rows(ledger)
    seen["publish1_again"] = publish(seen["day1_serving"], ledger, PUBLISHER)
    seen["ledger_after_1_again"] = _ledger_rows(ledger)

    seen["publish2"] = publish(serving, ledger, PUBLISHER)
    approve(ledger, 2, APPROVER)
    seen["ledger_after_2"] = _ledger_rows(ledger)
    seen["publish2_again"] = publish(serving, ledger, PUBLISHER)
    seen["ledger_after_2_again"] = _ledger_rows(ledger)
    return seen


def test_serving_copy_holds_each_good_run(payouts):
    assert payouts["day1_points"] == DAY1_POINTS
    assert payouts["day2_points"] == DAY2_POINTS
    ((run_id, rule_vars),) = query(
        payouts["serving"], "select dagster_run_id, rule_vars from serving.build"
    )
    assert run_id and '"reward_rate": "0.015"' in rule_vars
    files = query(
        payouts["serving"],
        "select file, sha256 from serving.input_files where dataset = 'orders' order by file",
    )
    assert [Path(f).name for f, _ in files] == ["orders-day2.csv", "orders.csv"]
    assert all(digest == _sha(Path(f)) for f, digest in files)


def test_a_serving_copy_with_other_column_types_is_written_whole(finance_runs, tmp_path):
    """D60: the generation a run brings up to date keeps no table narrower than the warehouse's.
    Here it was written before sums were decimal(38,2) (D59) and its order lines, the one mart
    updated in place, have another type too: it is written whole, and every served mart then
    has exactly the warehouse's columns and types."""
    from orchestration.defs.serving.copy import build_serving_copy, generation_files
    from orchestration.serving_layout import SERVED_MARTS

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(finance_runs["day2_warehouse"], warehouse)
    target = tmp_path / "warehouse.serving.duckdb"
    older, current = generation_files(target)
    for generation in (older, current):
        shutil.copyfile(finance_runs["day2_serving"], generation)
    target.symlink_to(current.name)  # the run brings `older` up to date
    with duckdb.connect(str(older)) as con:
        con.execute("alter table marts.account_rewards alter window_gmv type decimal(18, 2)")
        con.execute("alter table marts.reward_order_lines alter settled_gmv type decimal(17, 2)")

    said: list[str] = []
    build_serving_copy(
        warehouse, target, dagster_run_id="d60", rule_vars=rule_var_defaults(), log=said.append
    )
    assert target.resolve() == older.resolve()
    assert any("reward_order_lines with other columns or types" in line for line in said), said
    types = "select table_name, column_name, data_type from duckdb_columns() where "
    types += "schema_name = 'marts' and table_name in ({}) order by all".format(
        ", ".join(f"'{m}'" for m in SERVED_MARTS)
    )
    served, built = query(older, types), query(warehouse, types)
    assert served == built and ("account_rewards", "window_gmv", "DECIMAL(38,2)") in served


def test_a_lake_landing_is_served_with_the_digests_its_load_recorded(finance_runs, tmp_path):
    """D99: files the Spark loader read where no local path reaches (recorded by their URI) go
    into the serving copy with the SHA-256 their load recorded, since the copy cannot hash them
    itself; such a file whose load recorded none (an earlier version's) fails the copy with one
    line naming it, before any swap. Local files are still checked and hashed here."""
    from orchestration.defs.serving.copy import build_serving_copy

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(finance_runs["day2_warehouse"], warehouse)
    lake = "hdfs://lake:8020/short-video/landing/orders/"
    digest = "ab" * 32
    with duckdb.connect(str(warehouse)) as con:  # as the Spark run's copy of its bookkeeping
        con.execute("alter table raw.load_files add column sha256 varchar")
        con.execute(
            "update raw.load_files set file = ? || regexp_extract(file, '[^/]+$'), "
            "sha256 = ? where dataset = 'orders'",
            [lake, digest],
        )
        local = con.execute("select file from raw.load_files where dataset = 'videos'").fetchone()
    target = tmp_path / "warehouse.serving.duckdb"
    said: list[str] = []
    build_serving_copy(
        warehouse, target, dagster_run_id="d99", rule_vars=rule_var_defaults(), log=said.append
    )
    served = query(target, "select dataset, file, sha256 from serving.input_files order by all")
    # every local file hashed here, neither lake file
    hashed = f"input files: {len(served)} ({len(served) - 2} hashed in "
    assert any(line.startswith(hashed) for line in said), said
    assert [(f, h) for d, f, h in served if d == "orders"] == [
        (lake + "orders-day2.csv", digest),
        (lake + "orders.csv", digest),
    ]
    assert ("videos", local[0], _sha(Path(local[0]))) in served  # hashed here, as before

    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.load_files set sha256 = null where file like '%orders.csv'")
    before = target.resolve()
    with pytest.raises(RuntimeError) as refused:
        build_serving_copy(
            warehouse,
            target,
            dagster_run_id="d99-2",
            rule_vars=rule_var_defaults(),
            log=said.append,
        )
    assert str(refused.value).startswith(
        f"landing file {lake}orders.csv is not on this machine and its load recorded no SHA-256"
    )
    assert target.resolve() == before  # nothing swapped


def test_first_publish_pays_every_rewarded_account(payouts):
    first = payouts["publish1"]
    assert (
        first.payout_run_id,
        first.accounts_adjusted,
        first.points_adjusted,
        first.points_paid_total,
    ) == (1, 2, 39, 39)
    assert payouts["ledger_after_1"] == [
        (1, "fin_a", "initial", 15, 15),
        (1, "fin_b", "initial", 24, 24),
    ]


def test_publishing_the_same_rewards_twice_writes_nothing(payouts):
    for again, before, after in (
        ("publish1_again", "ledger_after_1", "ledger_after_1_again"),
        ("publish2_again", "ledger_after_2", "ledger_after_2_again"),
    ):
        assert payouts[again].payout_run_id is None
        assert "nothing to publish" in payouts[again].reason
        assert payouts[after] == payouts[before]
    assert query(payouts["ledger"], "select count(*) from ledger.payout_runs") == [(2,)]


def test_second_publish_writes_only_adjustments_with_a_clawback(payouts):
    second = payouts["publish2"]
    assert (
        second.payout_run_id,
        second.accounts_adjusted,
        second.points_adjusted,
        second.points_paid_total,
    ) == (2, 2, 9, 48)
    assert payouts["ledger_after_2"] == payouts["ledger_after_1"] + [
        (2, "fin_a", "clawback", -6, 9),
        (2, "fin_b", "increase", 15, 39),
    ]
    # the sum of an account's ledger rows is its latest reward
    paid = dict(
        query(payouts["ledger"], "select account_id, sum(points) from ledger.entries group by 1")
    )
    assert {a: paid.get(a, 0) for a in DAY2_POINTS} == DAY2_POINTS
    (inputs,) = query(
        payouts["ledger"],
        "select count(*) from ledger.payout_run_inputs "
        "where payout_run_id = 2 and file like '%orders-day2%'",
    )
    assert inputs == (1,)


def test_a_changed_ledger_is_refused(payouts, tmp_path):
    ledger = tmp_path / "tampered.ledger.duckdb"
    ledger.write_bytes(payouts["ledger"].read_bytes())
    con = duckdb.connect(str(ledger))
    con.execute(
        "update ledger.entries set points = 20 where account_id = 'fin_a' and payout_run_id = 1"
    )
    con.close()
    with pytest.raises(LedgerError, match="payout run 1 no longer matches"):
        publish(payouts["serving"], ledger)


def test_order_lines_quota_and_summary_explain_the_rewards(payouts):
    lines = query(
        payouts["serving"],
        """
        select period, line_status, excluded_reason, rule_id, settled_gmv, counted_gmv
        from marts.reward_order_lines where account_id = 'fin_a' order by settled_gmv""",
    )
    assert lines == [
        ("window", "excluded", "video_not_found", "R4", Decimal("50.00"), Decimal("0.00")),
        ("window", "excluded", "over_quota", "R6", Decimal("300.00"), Decimal("0.00")),
        ("window", "counted", None, None, Decimal("600.00"), Decimal("600.00")),
    ]
    assert query(
        payouts["serving"],
        """
        select published_day::varchar, follower_count, tier_min_followers, daily_quota,
            published_videos, over_quota_videos, over_quota_orders, over_quota_window_gmv
        from marts.video_quota where account_id = 'fin_a' and over_quota_videos > 0""",
    ) == [("2025-12-01", 5000, 1000, 2, 3, 1, 1, Decimal("300.00"))]
    summary = {
        (m, b): (label, v)
        for m, b, label, v in query(
            payouts["serving"], "select metric, breakdown, label, value from marts.program_summary"
        )
    }
    # each figure once, labelled with the population it counts (D61)
    assert summary[("enrolled_accounts", "all enrolled accounts")] == ("all enrolled accounts", 4)
    assert summary[("accounts_by_status", "eligible accounts")] == ("eligible accounts", 2)
    assert summary[("accounts_by_status", "ineligible: below_follower_threshold")] == (
        "ineligible accounts: below_follower_threshold (R10)",
        1,
    )
    assert summary[("accounts_by_status", "ineligible: commerce_not_enabled")][1] == 1
    assert summary[("reward_points", "eligible accounts")] == (
        "reward points (eligible accounts)",
        48,
    )
    assert summary[("capped_accounts", "eligible accounts")][1] == 0
    assert summary[("new_entrants", "eligible accounts")][1] == 1  # fin_a; fin_d is ineligible
    assert summary[("reward_base", "eligible accounts")][1] == Decimal("3200.00")
    # fin_a 600.00 + fin_b 3,000.00; with fin_c's 500.00 (below the follower threshold): 4,100.00
    assert summary[("window_gmv", "eligible accounts")] == (
        "window GMV (eligible accounts)",
        Decimal("3600.00"),
    )
    assert summary[("window_gmv", "all enrolled accounts")] == (
        "window GMV (all enrolled accounts)",
        Decimal("4100.00"),
    )
    assert summary[("quarantined_rows", "orders: video_not_found (R4)")] == (
        "quarantined rows: orders: video_not_found (R4)",
        1,
    )


def _figures(serving: Path) -> dict[str, tuple[Decimal, str]]:
    """program_summary's figures, by label: (value, as the CLI and the index print it)."""
    from orchestration.formatting import quantity

    return {
        label: (value, quantity(value, unit))
        for label, value, unit in query(
            serving, "select label, value, unit from marts.program_summary order by position"
        )
    }


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_surface_shows_program_summarys_figures(payouts, tmp_path):
    """D61: the run's summary, the Dagster metadata, the workbook's summary sheet and the
    statements index show every figure of marts.program_summary, under its label, with its
    value (simulate's published column: test_simulate_reports_cost_...). After day 2, by hand
    (tests/support/finance_cases.py): eligible fin_a 600.00 + fin_b 3,000.00 = 3,600.00 window
    GMV, bases 600.00 + 2,600.00 = 3,200.00, one new entrant (fin_a); all enrolled accounts
    also hold fin_c's 500.00 (below the follower threshold): 4,100.00."""
    from openpyxl import load_workbook

    from orchestration.finance.export import export_rewards
    from orchestration.finance.statements import write_statements
    from orchestration.summary import read_summary

    serving = payouts["day2_serving"]
    figures = _figures(serving)
    assert figures["reward base (eligible accounts)"][1] == "3,200.00 CNY"
    assert figures["window GMV (eligible accounts)"][1] == "3,600.00 CNY"
    assert figures["window GMV (all enrolled accounts)"][1] == "4,100.00 CNY"
    assert figures["new entrants (eligible accounts)"][1] == "1 account"
    assert figures["all enrolled accounts"][1] == "4 accounts"

    # the run's summary, read from the warehouse the day-2 run built
    printed = read_summary(payouts["day2_warehouse"]).lines()
    for label, (_, shown) in figures.items():
        (line,) = [x for x in printed if x.startswith(label + "  ")]
        assert " ".join(line[len(label) :].split()) == shown, line
    # the Dagster metadata of that run's program_summary
    ((run_id,),) = query(serving, "select dagster_run_id from serving.build")
    with open_instance(payouts["warehouse"].with_suffix(".dagster")) as instance:
        records = instance.fetch_materializations(
            AssetKey(["marts", "program_summary"]), limit=10
        ).records
    (metadata,) = [r.asset_materialization.metadata for r in records if r.run_id == run_id]
    assert {label: Decimal(str(metadata[label].value)) for label in figures} == {
        label: value for label, (value, _) in figures.items()
    }
    # the workbook's summary sheet
    export_rewards(serving, tmp_path / "no.ledger.duckdb", tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx", read_only=True)["summary"]
    rows = list(sheet.iter_rows(values_only=True))
    start = rows.index(("metric", "figure", "value", "unit"))
    assert {row[1]: Decimal(str(row[2])) for row in rows[start + 1 :]} == {
        label: value for label, (value, _) in figures.items()
    }
    # the statements index
    written = write_statements(
        serving, tmp_path / "no.ledger.duckdb", tmp_path / "s", account_id="fin_a"
    )
    words = _words(written.index.read_text(encoding="utf-8"))
    for label, (_, shown) in figures.items():
        assert f"{label} {shown}" in words, label


def test_a_serving_copy_of_an_older_lines_format_is_written_whole_once(payouts, tmp_path):
    """D65: the order lines changed meaning (R3's reasons); a serving copy written before keeps
    the old reasons in lines no run changes, so each generation of it is written whole once,
    then updated in place again. The old generation here: day 2's copy with its recorded
    format removed and one line given the old reason `not_settled`."""
    from orchestration.defs.serving.copy import ORDER_LINES_FORMAT, build_serving_copy

    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "warehouse.serving.duckdb"
    shutil.copyfile(payouts["day2_warehouse"], warehouse)
    shutil.copyfile(payouts["day2_serving"], target.with_name(target.name + ".a"))
    with duckdb.connect(str(target.with_name(target.name + ".a"))) as con:
        (state,) = con.execute("select source_state from serving.build").fetchone()
        state = {k: v for k, v in json.loads(state).items() if k != "order_lines_format"}
        con.execute("update serving.build set source_state = ?", [json.dumps(state)])
        con.execute(
            "update marts.reward_order_lines set excluded_reason = 'not_settled' "
            "where excluded_reason = 'over_quota'"
        )
    os.symlink(target.name + ".a", target)
    expected = query(warehouse, "select * from marts.reward_order_lines order by order_id")

    logs = []
    for _ in range(3):  # .b from a copy of .a, then .a itself, then .b again
        log: list[str] = []
        build_serving_copy(
            warehouse, target, dagster_run_id="d65", rule_vars=rule_var_defaults(), log=log.append
        )
        logs.append("\n".join(log))
        assert query(target, "select * from marts.reward_order_lines order by order_id") == expected
        ((state,),) = query(target, "select source_state from serving.build")
        assert json.loads(state)["order_lines_format"] == ORDER_LINES_FORMAT
    whole = f"holds order lines of format 1, not {ORDER_LINES_FORMAT} (D65); writing it whole"
    assert whole in logs[0] and whole in logs[1], logs
    assert "writing it whole" not in logs[2] and "0 changed orders' lines replaced" in logs[2]


def test_explain_prints_the_whole_trail(payouts):
    with pipeline_env(payouts["landing"], payouts["warehouse"]):
        text = cli_ok("explain", "fin_a")
        ineligible = cli_ok("explain", "fin_c")
        unknown = CliRunner().invoke(main, ["explain", "nobody"])
    for line in [
        "Account fin_a: 9 points",
        "judged on the snapshot of 2025-07-01: merchant, 5,000 followers",
        "[pass] at least 1,000 followers, or a self-operated shop",
        # nouns agree with their counts (D62)
        "window   2025-11-22 .. 2025-12-31: 1 counted order, settled GMV 600.00",
        "over_quota               R6   window          1 order          300.00",
        "video_not_found          R4   window          1 order           50.00",
        "4 commerce videos on 2 days; 1 day over quota",
        "over-quota videos: 1, their orders: 1, window GMV not counted: 300.00",
        "orders             video_not_found",
        "baseline GMV = 0.00 x 40 / 92 = 0.00 (half-up to 0.01); new entrant (R8)",
        "reward base  = max(0, 600.00 - 0.00) = 600.00",
        "points       = floor(600.00 x 0.015) = 9",
        "cap          = 150,000 points: not reached",
        "=> 9 points",
        "payout run 1 (",
        ", approved by bob): initial    +15",
        ", approved by bob): clawback   -6",
        "paid to date 9 of 9",
    ]:
        assert line in text, f"{line!r} not in:\n{text}"
    assert "[FAIL]" not in text and "  => eligible" in text
    assert "[FAIL] at least 1,000 followers, or a self-operated shop" in ineligible
    assert "not eligible: below_follower_threshold (0 points)" in ineligible
    assert "points       = floor(500.00 x 0.015) = 7" in ineligible
    assert unknown.exit_code == 2 and "not an enrolled account" in unknown.output


def test_export_carries_the_payout_run_in_every_format(payouts, tmp_path):
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    with pipeline_env(payouts["landing"], payouts["warehouse"]):
        for suffix in ("csv", "parquet", "xlsx"):
            done = cli_ok("export", "--out", str(tmp_path / f"r.{suffix}"))
            assert "wrote 4 accounts" in done and "(paid through payout run 2)" in done
        bad = CliRunner().invoke(main, ["export", "--out", str(tmp_path / "r.json")])
    assert bad.exit_code == 2 and ".xlsx" in bad.output

    rows = duckdb.sql(
        f"select account_id, reward_points, payout_run_id, paid_points, adjustment_points, "
        f"unpaid_points, window_gmv::varchar from read_csv('{tmp_path / 'r.csv'}') order by 1"
    ).fetchall()
    assert rows == [
        ("fin_a", 9, 2, 9, 0, 0, "600.00"),
        ("fin_b", 39, 2, 39, 0, 0, "3000.00"),
        ("fin_c", 0, 2, 0, 0, 0, "500.00"),
        (WEIRD_ACCOUNT, 0, 2, 0, 0, 0, "0.00"),
    ]
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.schema.metadata[b"payout_run_id"] == b"2"
    assert table.column("window_gmv").to_pylist()[1] == Decimal("3000.00")

    book = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert book.sheetnames == [
        "summary",
        "account_rewards",
        "payout_history",
        "adjustments",
        "accrual",
    ]
    summary = [tuple(r) for r in book["summary"].iter_rows(values_only=True)]
    assert ("latest approved payout run", 2) in [r[:2] for r in summary]
    assert ("reward_points", "reward points (eligible accounts)", 48, "points") in summary
    sheet = list(book["account_rewards"].iter_rows(values_only=True))
    header = sheet[0]
    fin_b = dict(zip(header, sheet[2], strict=True))
    assert (fin_b["account_id"], fin_b["reward_points"], fin_b["payout_run_id"]) == ("fin_b", 39, 2)


def test_simulate_reports_cost_and_changes_without_touching_marts_or_ledger(payouts, tmp_path):
    before = {p: _sha(payouts[p]) for p in ("serving", "ledger", "warehouse")}
    with pipeline_env(payouts["landing"], payouts["warehouse"]):
        text = cli_ok(
            "simulate",
            "--var",
            "reward_rate=0.02",
            "--var",
            "reward_cap_points=40",
            "--out",
            str(tmp_path / "changes.csv"),
        )
    # fin_a floor(600 x 0.02) = 12; fin_b floor(2,600 x 0.02) = 52, capped at 40: program_summary's
    # figures, published and simulated (D61)
    assert _table(text) == [
        ["", "published", "simulated", "change"],
        [
            "rewarded accounts (eligible accounts with points)",
            "2 accounts",
            "2 accounts",
            "+0 accounts",
        ],
        ["reward points (eligible accounts)", "48 points", "52 points", "+4 points"],
        ["capped accounts (eligible accounts)", "0 accounts", "1 account", "+1 account"],
        ["reward base (eligible accounts)", "3,200.00 CNY", "3,200.00 CNY", "+0.00 CNY"],
    ]
    # the published column is the serving copy's program_summary, as every surface shows it
    published = _figures(payouts["serving"])
    assert all(published[label][1] == now for label, now, _, _ in _table(text)[1:])
    assert "accounts whose reward changes: 2" in text
    assert "  fin_b                        39 ->         40 (+1 point)" in text
    changes = duckdb.sql(
        f"select account_id, reward_points, simulated_points, "
        f"simulated_is_capped from read_csv('{tmp_path / 'changes.csv'}') "
        "order by 1"
    ).fetchall()
    assert changes == [("fin_a", 9, 12, False), ("fin_b", 39, 40, True)]
    assert {p: _sha(payouts[p]) for p in before} == before
    assert not list(payouts["root"].glob(".simulate-*"))
    assert "note:" not in text  # the raw tables are the published run's inputs


def test_simulate_says_when_the_raw_tables_are_newer_than_the_published_marts(payouts, tmp_path):
    """Day 2's files loaded, but the published marts still day 1's (as after a run that loaded
    them and then failed): the comparison mixes the new data with the new rule, and says so."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(payouts["warehouse"], warehouse)
    shutil.copyfile(payouts["day1_serving"], tmp_path / "warehouse.serving.duckdb")
    with pipeline_env(payouts["landing"], warehouse):
        text = cli_ok("simulate", "--var", "reward_rate=0.02")
    assert (
        "differ from the published run's inputs in 1 landing file (orders/orders-day2.csv;"
    ) in text
    # published day 1: 15 + 24 = 39; day 2's data at 2 %: floor(600 x 0.02) + floor(2,600 x 0.02)
    assert ["reward points (eligible accounts)", "39 points", "64 points", "+25 points"] in (
        _table(text)
    )


def _table(text: str) -> list[list[str]]:
    """`rewards simulate`'s table: its header and figure rows, as cells (2+ spaces apart)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("published"))
    rows = [[""] + re.split(r" {2,}", lines[start].strip())]
    for line in lines[start + 1 :]:
        if line.startswith("accounts whose reward changes"):
            break
        rows.append(re.split(r" {2,}", line.strip()))
    return rows


def _wait_for(condition, what: str, run: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert run.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


def test_reads_while_a_run_writes_and_a_killed_run_changes_nothing(payouts, tmp_path):
    """A run waits for a reader of the warehouse instead of failing on DuckDB's lock; while it
    writes, simulate is refused without opening the warehouse, and export, explain and the
    statements read the serving copy; killed, it leaves the serving copy, the ledger and no lock
    behind."""
    serving_before, ledger_before = _sha(payouts["serving"]), _sha(payouts["ledger"])
    env = {
        **os.environ,
        "REWARDS_LANDING_DIR": str(payouts["landing"]),
        "REWARDS_WAREHOUSE": str(payouts["warehouse"]),
    }
    for key in (
        "REWARDS_SERVING_COPY",
        "REWARDS_LEDGER",
        "REWARDS_QUALITY_DIR",
        "REWARDS_DUCKDB_TEMP_DIR",
        "DAGSTER_HOME",
    ):
        env.pop(key, None)
    rewards = Path(sys.executable).parent / "rewards"
    log = tmp_path / "run.log"
    reader = WarehouseLock(payouts["warehouse"])
    reader.acquire("a reader standing in for rewards simulate")
    with open(log, "w") as out:
        run = subprocess.Popen(
            [str(rewards), "run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(
            lambda: "waiting for a reader standing in" in log.read_text(),
            "the run waiting for the reader",
            run,
        )
        assert duckdb_writer_pid(payouts["warehouse"]) is None  # it waits without opening the file
        reader.release()
        _wait_for(
            lambda: duckdb_writer_pid(payouts["warehouse"]) == run.pid,
            "the run writing the warehouse",
            run,
        )
        # the run holds the warehouse: finance reads the serving copy; simulate, which reads
        # the raw tables, is refused before it opens them
        with pipeline_env(payouts["landing"], payouts["warehouse"]):
            out = cli_ok("export", "--out", str(tmp_path / "during.csv"))
            explained = cli_ok("explain", "fin_b")
            statements = cli_ok("statements", "--out", str(tmp_path / "statements"))
            simulated = CliRunner().invoke(main, ["simulate", "--var", "reward_rate=0.02"])
        assert run.poll() is None  # still running: none of them waited for it
        assert f"pid {run.pid}," in WarehouseLock(payouts["warehouse"]).holder()
    finally:
        reader.release()
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert "wrote 4 accounts" in out and "Account fin_b: 39 points" in explained
    assert "wrote 4 statements" in statements
    assert "39 / 39" in (tmp_path / "statements" / "fin_b.html").read_text(encoding="utf-8")
    assert duckdb.sql(
        f"select sum(reward_points) from read_csv('{tmp_path / 'during.csv'}')"
    ).fetchall() == [(48,)]
    assert simulated.exit_code == 1
    assert "the warehouse is in use by Dagster run" in simulated.output
    assert "try again when it is done" in simulated.output
    # killed mid-run: the last good copy and the ledger are exactly as they were, and the
    # operating system dropped the run's lock
    assert _sha(payouts["serving"]) == serving_before
    assert _sha(payouts["ledger"]) == ledger_before
    after = WarehouseLock(payouts["warehouse"])
    after.acquire("the test, after the kill")
    after.release()
    # the killed run stays "started" in the Dagster instance until the next check marks it
    # failed, naming its process (D27); nothing else is touched
    with open_instance(payouts["warehouse"].with_suffix(".dagster")) as instance:
        (killed,) = [
            r.dagster_run
            for r in instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        ]
        assert killed.tags["rewards/pid"] == str(run.pid)
        assert fail_abandoned_cli_runs(instance) == [killed.run_id]
        assert fail_abandoned_cli_runs(instance) == []
        assert instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.FAILURE
        (failure,) = instance.all_logs(killed.run_id, of_type=DagsterEventType.RUN_FAILURE)
        assert f"(pid {run.pid} on" in failure.dagster_event.message
        assert not instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED]))


def test_a_run_stopped_by_a_blocking_check_leaves_the_serving_copy(payouts, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    serving = tmp_path / "warehouse.serving.duckdb"
    warehouse.write_bytes(payouts["warehouse"].read_bytes())
    serving.write_bytes(payouts["serving"].read_bytes())
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update marts.account_rewards set reward_points = reward_points + 1 "
        "where account_id = 'fin_b'"
    )
    con.close()
    before = _sha(serving)
    result = execute_selection(
        payouts["landing"],
        warehouse,
        AssetSelection.checks(
            *[
                AssetCheckKey(AssetKey(list(suite.asset_key)), check.name)
                for suite in all_suites(rule_var_defaults())
                if suite.asset_key == ("marts", "account_rewards")
                for check in suite.checks
            ]
        )
        | AssetSelection.assets(AssetKey(["serving", "finance_copy"])),
    )
    assert not result.success
    assert _sha(serving) == before
    assert _served_points(serving) == DAY2_POINTS


def test_ledger_lists_the_payout_runs(payouts):
    with pipeline_env(payouts["landing"], payouts["warehouse"]):
        text = cli_ok("ledger")
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["run", "state", "published", "at"]
    runs = [line.split() for line in lines[1:3]]
    # run, state, published at, by, decided by, accounts adjusted, net points, paid in total
    assert [[r[0], r[1], r[3], r[4], r[5], r[6], r[7]] for r in runs] == [
        ["1", "approved", "alice", "bob", "2", "+39", "39"],
        ["2", "approved", "alice", "bob", "2", "+9", "48"],
    ]
    assert lines[-1].startswith("digest chain verified; head ")


# Last in the module: it lands a third day of orders in the shared landing folder.
def test_a_killed_daily_run_leaves_finance_untouched_and_the_next_run_converges(payouts, tmp_path):
    """D29: a daily run killed after its order models were updated, before the marts, leaves the
    serving copy (its link and the file it points to) and the ledger byte-identical; the next
    run picks up where the state says, and its marts and serving copy equal a full build of the
    same files."""
    from support.dbt_build import build, marts

    serving = payouts["serving"]
    before = {
        "link": os.readlink(serving),
        "serving": _sha(serving),
        "ledger": _sha(payouts["ledger"]),
    }
    day3 = Landing()
    day3.sale("fin_c", "2025-12-21", "700.00", file="orders-day3.csv", order_id="fin_c-late")
    day3.write(payouts["landing"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REWARDS_", "DAGSTER_"))}
    log = tmp_path / "run.log"
    # dbt's own log, appended to by every build of the warehouse: this run's lines follow `start`
    dbt_log = payouts["warehouse"].with_suffix(".dbt") / "dbt.log"
    start = dbt_log.stat().st_size if dbt_log.exists() else 0

    def built(model: str) -> bool:
        if not dbt_log.exists():
            return False
        with open(dbt_log, "rb") as text:
            text.seek(start)
            return f"OK created sql incremental model {model} ".encode() in text.read()

    with open(log, "w") as out:
        run = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "rewards"),
                "run",
                "--landing",
                str(payouts["landing"]),
                "--warehouse",
                str(payouts["warehouse"]),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # killed inside the one dbt build, once the order models are updated
        _wait_for(
            lambda: built("intermediate.int_short_video_orders"),
            "the order models updated",
            run,
            seconds=300,
        )
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert {
        "link": os.readlink(serving),
        "serving": _sha(serving),
        "ledger": _sha(payouts["ledger"]),
    } == before

    run_pipeline_on(payouts["landing"], payouts["warehouse"])
    full = tmp_path / "full.duckdb"
    build(payouts["landing"], full, data_tests=False)  # only its marts are compared
    assert marts(payouts["warehouse"]) == marts(full)
    # fin_c: 500.00 + 700.00 = 1,200.00 window GMV, but 500 followers: ineligible (R10)
    assert query(
        serving,
        "select window_gmv, reward_points from marts.account_rewards where account_id = 'fin_c'",
    ) == [(Decimal("1200.00"), 0)]
    assert os.readlink(serving) != before["link"]
    assert query(serving, "select * from marts.reward_order_lines order by order_id") == query(
        full, "select * from marts.reward_order_lines order by order_id"
    )
