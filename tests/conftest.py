"""Shared fixtures: hand-built landing folders run through the real Dagster + dbt pipeline."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from orchestration.settings import (  # noqa: E402
    DAGSTER_HOME_ENV,
    LANDING_ENV,
    LEDGER_ENV,
    QUALITY_DIR_ENV,
    SERVING_ENV,
    TEMP_DIR_ENV,
    WAREHOUSE_ENV,
    temporary_env,
)

# Hypothesis (tests/test_contract_fuzz.py): a fixed, modest run by default (about a minute);
# `pytest --hypothesis-profile=long` for a long local one, new examples every time
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns)
            for f in folder.rglob("*") if f.is_file()} if folder.is_dir() else {}


@pytest.fixture(scope="session", autouse=True)
def _repository_data_untouched():
    """No test writes into the repository's own data/ (the defaults a user's `rewards demo`
    fills): every test points the pipeline at a temporary folder."""
    from orchestration.settings import REPO_ROOT

    before = _listing(REPO_ROOT / "data")
    yield
    after = _listing(REPO_ROOT / "data")
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    assert not changed, f"the tests wrote into the repository's data/: {changed[:5]}"


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test gets back the environment it started with: loading the code location exports
    the warehouse settings for dbt (settings.export_to_env), which must not leak into the
    next test or the `rewards` subprocesses it starts."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


REWARDS = str(Path(sys.executable).parent / "rewards")


def user_shell_env() -> dict[str, str]:
    """The environment as a user's shell has it: none of the caller's REWARDS_* or DAGSTER_*
    settings, so every path follows the flags given (instance, quality folder... beside the
    warehouse)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("REWARDS_", "DAGSTER_"))}


def rewards_cli(*args: str) -> subprocess.CompletedProcess:
    """`rewards ARGS` as a user's shell runs it."""
    return subprocess.run([REWARDS, *args], capture_output=True, text=True, timeout=600,
                          env=user_shell_env())


def printed_run_id(stdout: str) -> str:
    """The Dagster run id `rewards run` prints first and again in its summary."""
    (run_id,) = re.findall(r"^dagster run +([0-9a-f-]{36}) ", stdout, re.MULTILINE)
    assert f"Dagster run {run_id} " in stdout  # printed first too, before the run starts
    return run_id


def pipeline_env(landing: Path, warehouse: Path):
    """Point the settings at `landing` and `warehouse` (their own temp and quality folders,
    serving copy, ledger and Dagster instance beside the warehouse)."""
    return temporary_env({LANDING_ENV: str(landing), WAREHOUSE_ENV: str(warehouse),
                          TEMP_DIR_ENV: None, QUALITY_DIR_ENV: None, SERVING_ENV: None,
                          LEDGER_ENV: None, DAGSTER_HOME_ENV: None})


def run_pipeline_on(landing: Path, warehouse: Path, var_overrides: dict | None = None):
    """Materialize the whole asset graph in-process on `landing` into `warehouse`."""
    from orchestration.runner import run_pipeline

    with pipeline_env(landing, warehouse):
        return run_pipeline(var_overrides or {}, quiet=True)


def execute_selection(landing: Path, warehouse: Path, selection=None):
    """Run part of the asset graph (a Dagster AssetSelection; all by default) with the code
    location's own Definitions; returns Dagster's result so tests can read the run's events."""
    from dagster import AssetSelection, Definitions, define_asset_job

    from orchestration.definitions import build_defs
    from orchestration.settings import Settings

    with pipeline_env(landing, warehouse):
        job = define_asset_job("under_test", selection=selection or AssetSelection.all())
        defs = Definitions.merge(build_defs(Settings.from_env()), Definitions(jobs=[job]))
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # dbt's log
            return defs.resolve_job_def("under_test").execute_in_process(raise_on_error=False)


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


def assert_matches_hand_computation(rewards: dict[str, dict], account: str,
                                    expected: dict) -> None:
    """Every hand-computed column of `account` (tests/rulebook_cases.py) in an engine's
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


# The longest modules, longest first (their durations on the CI machine, a few minutes each):
# started first, they do not leave one worker busy after the other has finished (pytest-xdist
# hands out whole modules in collection order).
LONGEST_MODULES = ("test_finance", "test_spark", "test_quality", "test_browser",
                   "test_automation", "test_cli")


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        name = item.module.__name__
        return LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES)

    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(scope="session")
def rulebook_run(tmp_path_factory):
    """The rulebook landing (tests/rulebook_cases.py) run once; every rule test reads it."""
    import rulebook_cases

    root = tmp_path_factory.mktemp("rulebook")
    land, expected, quarantine = rulebook_cases.build()
    landing = land.write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    summary = run_pipeline_on(landing, warehouse)
    return {"warehouse": warehouse, "expected": expected, "quarantine": quarantine,
            "summary": summary}
