"""How the tests run the pipeline: in-process through the product's own runner
(orchestration.runner.execute, as `rewards run` does), either the whole asset graph with its
summary (`run_pipeline_on`) or a selection of it with the run's events (`execute_selection`);
`rewards` as a user's shell runs it, for the CLI's own tests; and reading a warehouse back
(`query`)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import duckdb

from orchestration.settings import LANDING_ENV, WAREHOUSE_ENV, Settings

REWARDS = str(Path(sys.executable).parent / "rewards")


def user_shell_env() -> dict[str, str]:
    """The environment as a user's shell has it: none of the caller's REWARDS_* or DAGSTER_*
    settings, so every path follows the flags given (instance, quality folder... beside the
    warehouse)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("REWARDS_", "DAGSTER_"))}


def rewards_cli(*args: str) -> subprocess.CompletedProcess:
    """`rewards ARGS` as a user's shell runs it."""
    return subprocess.run(
        [REWARDS, *args], capture_output=True, text=True, timeout=600, env=user_shell_env()
    )


def printed_run_id(stdout: str) -> str:
    """The Dagster run id `rewards run` prints first and again in its summary."""
    (run_id,) = re.findall(r"^dagster run +([0-9a-f-]{36}) ", stdout, re.MULTILINE)
    assert f"Dagster run {run_id} " in stdout  # printed first too, before the run starts
    return run_id


def shell_env(landing: Path, warehouse: Path) -> dict[str, str]:
    """A user's shell environment pointing `rewards` at `landing` and `warehouse`."""
    return {**user_shell_env(), LANDING_ENV: str(landing), WAREHOUSE_ENV: str(warehouse)}


@contextlib.contextmanager
def pipeline_env(landing: Path, warehouse: Path):
    """This process's environment as `shell_env`, for the length of the block: for the
    commands a test runs in-process through click's CliRunner as a user would from a shell."""
    with mock.patch.dict(os.environ, shell_env(landing, warehouse), clear=True):
        yield


def cli_ok(*args: str) -> str:
    """`rewards ARGS` in this process (click's CliRunner), which must succeed; its output."""
    from click.testing import CliRunner

    from orchestration.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def pipeline_settings(landing: Path, warehouse: Path) -> Settings:
    """The settings of `landing` and `warehouse` (their own temp and quality folders, serving
    copy, ledger and Dagster instance beside the warehouse), as a user's shell would resolve
    them."""
    return Settings.from_env(user_shell_env(), landing_dir=landing, warehouse=warehouse)


def run_pipeline_on(landing: Path, warehouse: Path, var_overrides: dict | None = None):
    """Materialize the whole asset graph in-process on `landing` into `warehouse`."""
    from orchestration.rule_vars import resolve_rule_vars
    from orchestration.runner import run_pipeline

    return run_pipeline(
        pipeline_settings(landing, warehouse), resolve_rule_vars(var_overrides or {}), quiet=True
    )


def execute_selection(landing: Path, warehouse: Path, selection=None):
    """Run part of the asset graph (a Dagster AssetSelection; all by default) as `rewards run`
    does (orchestration.runner.execute); returns Dagster's result so tests can read the run's
    events."""
    from orchestration.runner import execute

    return execute(pipeline_settings(landing, warehouse), selection=selection, quiet=True).result


def quarantine_warnings(lines) -> dict[str, int]:
    """Rows per contract reason from the summary's check-failure lines
    (`! warning: raw/orders:quarantined_<reason> (N rows)`), asserting each is such a warning:
    nothing blocking, nothing else failing."""
    warned: dict[str, int] = {}
    for line in lines:
        assert line.startswith("! warning: raw/"), line
        name, rows = line.removeprefix("! warning: ").split(" (")
        reason = name.split(":quarantined_")[1]
        warned[reason] = warned.get(reason, 0) + int(rows.split()[0].replace(",", ""))
    return warned


def assert_matches_hand_computation(rewards: dict[str, dict], account: str, expected: dict) -> None:
    """Every hand-computed column of `account` (tests/support/rulebook_cases.py) in an engine's
    `marts.account_rewards`, read as {account_id: {column: value}}."""
    assert account in rewards, f"{account} missing from marts.account_rewards"
    actual = rewards[account]
    for column, value in expected.items():
        assert actual[column] == value, f"{account}.{column}: {actual[column]!r} != {value!r}"


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
