"""Shared fixtures: hand-built landing folders run through the real Dagster + dbt pipeline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from orchestration.settings import LANDING_ENV, TEMP_DIR_ENV, WAREHOUSE_ENV  # noqa: E402


def run_pipeline_on(landing: Path, warehouse: Path, var_overrides: dict | None = None):
    """Materialize the whole asset graph in-process on `landing` into `warehouse`."""
    from orchestration.runner import run_pipeline

    saved = {k: os.environ.get(k) for k in (LANDING_ENV, WAREHOUSE_ENV, TEMP_DIR_ENV)}
    os.environ[LANDING_ENV] = str(landing)
    os.environ[WAREHOUSE_ENV] = str(warehouse)
    os.environ.pop(TEMP_DIR_ENV, None)
    try:
        return run_pipeline(var_overrides or {}, quiet=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


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
