"""Shared fixtures: hand-built landing folders run through the real Dagster + dbt pipeline."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import finance_cases, rulebook_cases
from support.pipeline import run_pipeline_on

# Hypothesis (tests/test_contract_fuzz.py): a fixed, modest run by default (about a minute);
# `pytest --hypothesis-profile=long` for a long local one, new examples every time
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return (
        {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in folder.rglob("*") if f.is_file()}
        if folder.is_dir()
        else {}
    )


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
def _environment_unchanged():
    """Configuration travels as values (Settings, the dbt runner's env), never through this
    process's environment: every test leaves `os.environ` exactly as it found it."""
    saved = dict(os.environ)
    yield
    changed = sorted(
        k
        for k in saved.keys() | os.environ.keys()
        if saved.get(k) != os.environ.get(k) and k != "PYTEST_CURRENT_TEST"
    )
    assert not changed, f"the test changed os.environ: {changed}"


# The longest modules, longest first (their durations on the CI machine, a few minutes each):
# started first, they do not leave one worker busy after the other has finished (pytest-xdist
# hands out whole modules in collection order).
LONGEST_MODULES = (
    "test_finance",
    "test_spark",
    "test_quality",
    "test_browser",
    "test_automation",
    "test_cli",
)


# The modules that read the finance landing's two pipeline runs (`finance_runs`): one xdist
# group, so they run on one worker and the two runs are paid for once.
FINANCE_MODULES = (
    "test_finance",
    "test_payout_cycle",
    "test_accrual",
    "test_workbook",
    "test_statements",
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> tuple[int, int]:
        name = item.module.__name__
        if name in FINANCE_MODULES:
            return (LONGEST_MODULES.index("test_finance"), FINANCE_MODULES.index(name))
        return (LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES), 0)

    items.sort(key=rank)  # stable: each module's tests keep their order
    # each module is one unit of work for xdist (a worker runs it whole, so its module fixtures
    # run once), the finance modules together
    for item in items:
        name = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("finance" if name in FINANCE_MODULES else name))


@pytest.fixture(scope="session")
def rulebook_run(tmp_path_factory):
    """The rulebook landing (tests/support/rulebook_cases.py) run once; every rule test reads it."""
    root = tmp_path_factory.mktemp("rulebook")
    land, expected, quarantine = rulebook_cases.build()
    landing = land.write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    summary = run_pipeline_on(landing, warehouse)
    return {
        "warehouse": warehouse,
        "expected": expected,
        "quarantine": quarantine,
        "summary": summary,
    }


@pytest.fixture(scope="session")
def finance_runs(tmp_path_factory):
    """The finance landing (tests/support/finance_cases.py) run through the whole pipeline after
    each of its two deliveries, with a copy of each run's serving copy kept as it was then (the
    finance tests build their own ledgers on these; test_finance later runs a third day in the
    same folders)."""
    root = tmp_path_factory.mktemp("finance")
    land, refunded = finance_cases.day1()
    landing = land.write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    serving = root / "warehouse.serving.duckdb"
    run_pipeline_on(landing, warehouse)
    shutil.copyfile(serving, root / "day1.serving.duckdb")
    finance_cases.day2(refunded).write(landing)
    run_pipeline_on(landing, warehouse)
    shutil.copyfile(serving, root / "day2.serving.duckdb")
    return {
        "root": root,
        "landing": landing,
        "warehouse": warehouse,
        "serving": serving,
        "ledger": root / "warehouse.ledger.duckdb",
        "day1_serving": root / "day1.serving.duckdb",
        "day2_serving": root / "day2.serving.duckdb",
    }
