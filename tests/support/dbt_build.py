"""The warehouse without Dagster: the real loader and the real dbt project, in this process.

For tests about what the models compute over a sequence of deliveries, where the orchestration
around them (quality gates, Data Docs, the serving copy) is covered elsewhere and would only
cost start-up time: each build is the loader's `load_dataset` per dataset, then one
`dbt build` of every model with its data tests, incremental unless
`orchestration.defs.warehouse.incremental.full_refresh_reason` asks for a full refresh, as the
pipeline's intermediate step decides; the data tests' scopes are recorded and forgotten as the
pipeline does (D30).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import duckdb

from orchestration.contract import DATASETS
from orchestration.dbt_runner import dbt_target_dir, invoke_on_warehouse, settings_env
from orchestration.defs.landing.loader import load_dataset
from orchestration.defs.quality import scopes
from orchestration.defs.warehouse.assets import LAYERS, REBUILT_SCOPES
from orchestration.defs.warehouse.incremental import forget_state, full_refresh_reason
from orchestration.rule_vars import rule_var_defaults
from orchestration.settings import Settings


def dbt(warehouse: Path, args: list[str]) -> str:
    """`dbt ARGS` on `warehouse`, in this process; returns dbt's log, failing with its tail."""
    settings = Settings.from_env({}, warehouse=warehouse)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):  # the pipeline's own target folder, for this warehouse
        result = invoke_on_warehouse(args, settings_env(settings), dbt_target_dir(warehouse))
    assert result.success, log.getvalue()[-4000:]
    return log.getvalue()


def build(landing: Path, warehouse: Path, data_tests: bool = True) -> str | None:
    """Load `landing` into `warehouse` and build every model; returns the full-refresh reason
    (None: the build was incremental, or the first one). Without `data_tests` the models are
    built (`dbt run`) and their data tests not run: for a reference build that a test only
    compares marts with."""
    with duckdb.connect(str(warehouse)) as con:
        for dataset in DATASETS.values():
            load_dataset(con, dataset, landing / dataset.name)
        through = scopes.load_watermark(con)
    reason = full_refresh_reason(warehouse, rule_var_defaults())
    if reason:
        with duckdb.connect(str(warehouse)) as con:
            scopes.forget(con, REBUILT_SCOPES)
            forget_state(con)
    command = ["build", "--exclude-resource-type", "unit_test"] if data_tests else ["run"]
    dbt(warehouse, [*command, *(["--full-refresh"] if reason else [])])
    if data_tests:
        with duckdb.connect(str(warehouse)) as con:  # as the pipeline does after each layer (D30)
            for layer in LAYERS:
                scopes.record_passed(con, f"dbt:{layer}", through, "tests")
    return reason


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table and view of the `marts` schema, all columns, rows sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        return {
            n: sorted(con.execute(f"select * from marts.{n}").fetchall(), key=repr) for n in names
        }
