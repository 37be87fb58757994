"""The `rewards` command as a user runs it: a real subprocess, a real warehouse file."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey
from support.landing_builder import Landing
from support.pipeline import printed_run_id, rewards_cli

ODD_FOLDER = 'a$b c\'d;e "奖励"'


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory) -> Path:
    """R7/R11's float trap: baseline 60.03 -> 26.10, window 1026.10 -> base 1000.00."""
    land = Landing()
    land.account("acct-a")
    land.sale("acct-a", "2025-09-10", "60.03")
    land.sale("acct-a", "2025-12-01", "1026.10")
    land.account("acct-b", enabled=False)
    land.sale("acct-b", "2025-12-01", "50.00")
    # a folder name a user may well have: `$` (which Great Expectations substitutes unless it is
    # escaped), a space, quotes, `;` and Chinese
    return land.write(tmp_path_factory.mktemp("cli") / ODD_FOLDER / "landing")


@pytest.fixture(scope="module")
def two_runs(small_landing, tmp_path_factory) -> dict:
    """Two `rewards run`s on one warehouse: the defaults (15 points for acct-a), then R11 with
    overrides: 1000.00 * 0.02 = 20 points, capped at 18."""
    warehouse = tmp_path_factory.mktemp("cli_runs") / ODD_FOLDER / "w.duckdb"
    runs = [
        rewards_cli("run", "--landing", str(small_landing), "--warehouse", str(warehouse)),
        rewards_cli(
            "run",
            "--landing",
            str(small_landing),
            "--warehouse",
            str(warehouse),
            "--var",
            "reward_rate=0.02",
            "--var",
            "reward_cap_points=18",
        ),
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr + done.stdout
    return {"warehouse": warehouse, "runs": runs}


def test_run_with_var_overrides_then_export(two_runs, tmp_path):
    warehouse = two_runs["warehouse"]
    done = two_runs["runs"][1]
    assert "✓ marts/account_rewards" in done.stdout  # progress per asset
    # program_summary's figures, each labelled with its population, numbers one way (D61, D62):
    # acct-a is eligible (1,000.00 base -> 18 points, capped); acct-b is not (commerce off), so
    # only the window GMV of all enrolled accounts holds its 50.00
    summary = done.stdout[done.stdout.index("all enrolled accounts") :].splitlines()
    for label, shown in [
        ("all enrolled accounts", "2 accounts"),
        ("eligible accounts", "1 account"),
        ("ineligible accounts: commerce_not_enabled (R10)", "1 account"),
        ("capped accounts (eligible accounts)", "1 account"),
        ("new entrants (eligible accounts)", "0 accounts"),
        ("reward points (eligible accounts)", "18 points"),
        ("reward points before the cap (eligible accounts)", "20 points"),
        ("reward base (eligible accounts)", "1,000.00 CNY"),
        ("window GMV (eligible accounts)", "1,026.10 CNY"),
        ("window GMV (all enrolled accounts)", "1,076.10 CNY"),
        ("quarantined rows (all datasets)", "0 rows"),
    ]:
        (line,) = [x for x in summary if x.startswith(label + "  ")]
        assert line.endswith(" " + shown) and line[len(label) :].strip() == shown, line

    for suffix in ("csv", "parquet"):
        out = tmp_path / f"rewards.{suffix}"
        exported = rewards_cli("export", "--warehouse", str(warehouse), "--out", str(out))
        assert exported.returncode == 0, exported.stderr
        reader = "read_csv" if suffix == "csv" else "read_parquet"
        rows = duckdb.sql(
            f"select account_id, cast(reward_base as decimal(18,2)), reward_points_uncapped, "
            f"reward_points, is_capped from {reader}('{out}') order by 1"
        ).fetchall()
        assert rows == [
            ("acct-a", Decimal("1000.00"), 20, 18, True),
            ("acct-b", Decimal("50.00"), 1, 0, False),
        ]


def test_the_run_counts_change_log_rows_and_orders_apart(two_runs):
    """The landing's three sales are three orders of two change-log rows each (paid, then
    settled: R2): the orders feed and its staging model print 6 change-log rows, the current
    state 3 orders."""
    printed = two_runs["runs"][0].stdout
    assert re.search(r"✓ raw/orders  6 change-log rows$", printed, re.M), printed
    assert re.search(r"✓ staging/stg_orders  6 change-log rows$", printed, re.M), printed
    assert re.search(r"✓ intermediate/int_orders_current  3 orders$", printed, re.M), printed
    assert re.search(r"✓ raw/videos  \d+ rows", printed), printed


def test_each_cli_run_is_a_run_in_the_projects_instance_with_its_metadata(two_runs):
    """Both runs are in the instance beside the warehouse (D27), under the ids they printed,
    tagged as the CLI's, each with its own materialization of the marts and their metadata:
    the UI's row-count and total plots get a point per run."""
    from dagster import AssetKey, DagsterEventType, DagsterRunStatus

    from expectations import all_suites
    from orchestration.instance import open_instance
    from orchestration.rule_vars import rule_var_defaults

    warehouse = two_runs["warehouse"]
    printed = [printed_run_id(done.stdout) for done in two_runs["runs"]]
    assert len(set(printed)) == 2
    with open_instance(warehouse.with_suffix(".dagster")) as instance:
        records = {r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records()}
        assert set(printed) <= set(records)  # (with the failed run of the test below, if run)
        for run_id in printed:
            run = records[run_id]
            assert run.job_name == "rewards" and run.status == DagsterRunStatus.SUCCESS
            assert run.tags["rewards/trigger"] == "cli" and run.tags["rewards/command"] == "run"
        materializations = instance.fetch_materializations(
            AssetKey(["marts", "account_rewards"]), limit=10
        ).records
        assert sorted(m.run_id for m in materializations) == sorted(printed)
        by_run = {m.run_id: m.asset_materialization.metadata for m in materializations}
        for run_id in printed:
            assert by_run[run_id]["dagster/row_count"].value == 2
        # R11 by hand: defaults 1000.00 * 0.015 = 15 points; then 0.02 -> 20, capped at 18; the
        # programme's figures are program_summary's, on its materialization (D61)
        summaries = instance.fetch_materializations(
            AssetKey(["marts", "program_summary"]), limit=10
        ).records
        points = {
            m.run_id: m.asset_materialization.metadata["reward points (eligible accounts)"].value
            for m in summaries
        }
        assert (points[printed[0]], points[printed[1]]) == (15, 18)
        # every check's result, per run: all the suites' checks, every one passed
        expected = {
            AssetCheckKey(AssetKey(list(suite.asset_key)), c.name)
            for suite in all_suites(rule_var_defaults())
            for c in suite.checks
        }
        for run_id in printed:
            evaluations = [
                e.dagster_event.event_specific_data
                for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
            ]
            assert expected <= {ev.asset_check_key for ev in evaluations}
            assert all(ev.passed for ev in evaluations)


def test_unreadable_file_fails_run_naming_it_and_keeps_last_good_marts(small_landing, two_runs):
    from dagster import DagsterRunStatus

    from orchestration.instance import open_instance

    warehouse = two_runs["warehouse"]
    broken = small_landing / "orders" / "zz_broken.parquet"
    broken.write_text("not parquet at all")
    try:
        done = rewards_cli("run", "--landing", str(small_landing), "--warehouse", str(warehouse))
    finally:
        broken.unlink()
    assert done.returncode == 1
    # one line: the file as the landing directory names it, what is wrong, no class paths
    assert done.stderr.strip().splitlines() == [
        f"Error: run {done.stderr.split()[2]} failed: orders/zz_broken.parquet: not a Parquet "
        "file, or a truncated one (it has no Parquet footer)"
    ], done.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    # the failed load rolled back: the previous raw orders and marts are all still there (the
    # second run's: 18 points, R11 with its overrides)
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == 6
    assert (
        con.execute(
            "select reward_points from marts.account_rewards where account_id = 'acct-a'"
        ).fetchone()[0]
        == 18
    )
    con.close()
    # and the UI shows the failed run, under the id the error names
    (run_id,) = re.findall(r"run ([0-9a-f-]{36}) failed", done.stderr)
    assert f"Dagster run {run_id} " in done.stdout
    with open_instance(warehouse.with_suffix(".dagster")) as instance:
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--landing", "/nonexistent/landing"], "landing directory not found"),
        (["run", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
        (["run", "--var", "reward_rate"], "--var expects key=value"),
        (["export", "--out", "x.json"], "--out must end in .csv, .parquet, .xlsx"),
        (
            ["export", "--warehouse", "/nonexistent/w.duckdb", "--out", "x.csv"],
            "no serving copy at /nonexistent/w.serving.duckdb",
        ),
        (["explain", "acct-a", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["publish", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["simulate", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
        # issue 14: values are validated before anything runs
        (["run", "--var", "reward_cap_points=-1"], "reward_cap_points=-1: must be an integer"),
        (["simulate", "--var", "reward_cap_points=-1"], "reward_cap_points=-1: must be an integer"),
        (["run", "--var", "timezone=Mars/Olympus_Mons"], "must be an IANA time zone name"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args, message):
    done = rewards_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_an_instance_folder_dagster_cannot_open_is_the_runs_only_line(small_landing, tmp_path):
    """A warehouse under a folder with `%` (which Dagster's SQLite storage reads as a URL
    escape): one line naming the folder, and no "Dagster run" line before it."""
    warehouse = tmp_path / "p%41" / "w.duckdb"
    done = rewards_cli("run", "--landing", str(small_landing), "--warehouse", str(warehouse))
    assert done.returncode == 2, done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "has a '%' in its path" in lines[0], done.stderr
    assert "Dagster run" not in done.stdout
