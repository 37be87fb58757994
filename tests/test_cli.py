"""The `rewards` command as a user runs it: a real subprocess, a real warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from landing_builder import Landing

REWARDS = str(Path(sys.executable).parent / "rewards")


def rewards(*args: str) -> subprocess.CompletedProcess:
    """As a user's shell runs it: no REWARDS_* settings but the flags given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REWARDS_")}
    return subprocess.run([REWARDS, *args], capture_output=True, text=True, timeout=600,
                          env=env)


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory) -> Path:
    """R7/R11's float trap: baseline 60.03 -> 26.10, window 1026.10 -> base 1000.00."""
    land = Landing()
    land.account("acct-a")
    land.sale("acct-a", "2025-09-10", "60.03")
    land.sale("acct-a", "2025-12-01", "1026.10")
    land.account("acct-b", enabled=False)
    land.sale("acct-b", "2025-12-01", "50.00")
    return land.write(tmp_path_factory.mktemp("cli") / "landing")


def test_run_with_var_overrides_then_export(small_landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    # R11 with overrides: 1000.00 * 0.02 = 20 points, capped at 18
    done = rewards("run", "--landing", str(small_landing), "--warehouse", str(warehouse),
                   "--var", "reward_rate=0.02", "--var", "reward_cap_points=18")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "✓ marts/account_rewards" in done.stdout  # progress per asset
    assert "reward points                   18" in done.stdout
    assert "capped at the cap                1" in done.stdout

    for suffix in ("csv", "parquet"):
        out = tmp_path / f"rewards.{suffix}"
        exported = rewards("export", "--warehouse", str(warehouse), "--out", str(out))
        assert exported.returncode == 0, exported.stderr
        reader = "read_csv" if suffix == "csv" else "read_parquet"
        rows = duckdb.sql(
            f"select account_id, cast(reward_base as decimal(18,2)), reward_points_uncapped, "
            f"reward_points, is_capped from {reader}('{out}') order by 1"
        ).fetchall()
        assert rows == [("acct-a", Decimal("1000.00"), 20, 18, True),
                        ("acct-b", Decimal("50.00"), 1, 0, False)]


def test_unreadable_file_fails_run_naming_it_and_keeps_last_good_marts(small_landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert rewards("run", "--landing", str(small_landing), "--warehouse",
                   str(warehouse)).returncode == 0
    broken = small_landing / "orders" / "zz_broken.parquet"
    broken.write_text("not parquet at all")
    try:
        done = rewards("run", "--landing", str(small_landing), "--warehouse", str(warehouse))
    finally:
        broken.unlink()
    assert done.returncode == 1
    assert str(broken) in done.stderr and "Traceback" not in done.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    # the failed load rolled back: the previous raw orders and marts are all still there
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == 6
    assert con.execute("select reward_points from marts.account_rewards "
                       "where account_id = 'acct-a'").fetchone()[0] == 15
    con.close()


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--landing", "/nonexistent/landing"], "landing directory not found"),
        (["run", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
        (["run", "--var", "reward_rate"], "--var expects key=value"),
        (["export", "--out", "x.json"], "--out must end in .csv, .parquet, .xlsx"),
        (["export", "--warehouse", "/nonexistent/w.duckdb", "--out", "x.csv"],
         "no serving copy at /nonexistent/w.serving.duckdb"),
        (["explain", "acct-a", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["publish", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["simulate", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args, message):
    done = rewards(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
