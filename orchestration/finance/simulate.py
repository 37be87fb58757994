"""`rewards simulate --var k=v ...`: what the programme would cost under other rule vars.

The same dbt models are built with the published run's rule vars plus the overrides, into a
scratch DuckDB file beside the warehouse (dbt target `simulate`: the warehouse is attached
read-only and only its raw tables are read). The result is compared with the serving copy's
`marts.account_rewards`: the programme's cost both ways and every account whose reward changes.
When the raw tables no longer hold exactly the landing files the published marts were built
from (a later run loaded new files, then failed or was stopped), the result says which files
differ: the changes then come from the new data as well as the new rules.
The warehouse, the serving copy and the ledger are only ever opened read-only; the scratch file
is deleted afterwards. While it reads the warehouse it holds the warehouse's lock
(orchestration/warehouse_lock.py): it refuses while a run holds it, and a run that starts
meanwhile waits for it instead of failing on DuckDB's file lock.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..dbt_runner import invoke_on_warehouse, settings_env
from ..defs.landing.bookkeeping import INPUT_FILES_SQL, LOAD_FILES_TABLE
from ..rule_vars import RuleVars, parse_var_overrides, resolve_rule_vars
from ..serving_layout import Figure, read_program_summary
from ..settings import TEMP_DIR_ENV, Settings
from ..warehouse_lock import WarehouseBusy, holding_warehouse
from .serving import open_serving_copy, read_build_info
from .writing import check_writable, copy_query, write_file

# the programme's cost, as program_summary computes and labels it (D61)
COST_METRICS = ("rewarded_accounts", "reward_points", "capped_accounts", "reward_base")
CHANGES_SQL = """
    select coalesce(now.account_id, sim.account_id) as account_id,
        coalesce(now.reward_points, 0) as reward_points,
        coalesce(sim.reward_points, 0) as simulated_points,
        coalesce(sim.reward_points, 0) - coalesce(now.reward_points, 0) as change,
        now.is_eligible as is_eligible, sim.is_eligible as simulated_is_eligible,
        now.is_capped as is_capped, sim.is_capped as simulated_is_capped,
        now.reward_base as reward_base, sim.reward_base as simulated_reward_base
    from published.marts.account_rewards as now
    full outer join simulate.marts.account_rewards as sim on now.account_id = sim.account_id
    where now.reward_points is distinct from sim.reward_points
        or now.is_eligible is distinct from sim.is_eligible
        or now.reward_base is distinct from sim.reward_base
"""


# DuckDB's own lock, held by a process that does not take the warehouse lock (a DuckDB shell)
_LOCKED = (
    "the warehouse {warehouse} is open for writing in another process; simulate reads "
    "its raw tables: try again when it is closed"
)


class SimulationFailed(RuntimeError):
    pass


def _cost(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Figure]:
    """COST_METRICS' figures (eligible accounts) of a program_summary, by metric."""
    return {
        f.metric: f
        for f in read_program_summary(con, table)
        if f.metric in COST_METRICS and f.breakdown == "eligible accounts"
    }


@dataclass
class SimulationResult:
    rule_vars: dict[str, Any]
    overrides: dict[str, Any]
    published_run: str
    # (published, simulated) for each of COST_METRICS
    figures: list[tuple[Figure, Figure]]
    changed_accounts: int
    top_changes: list[tuple]
    # landing files in the warehouse's raw tables but not among the published run's inputs, or
    # the other way round (a run since failed, or was killed, after loading new files): the
    # changes then mix new data with the new rules
    inputs_differ: list[str] = field(default_factory=list)


def simulate(
    settings: Settings, overrides: dict[str, str], out_csv: Path | None = None, top: int = 20
) -> SimulationResult:
    # a mistyped name or a bad value is answered before any file is opened, and a place
    # --out cannot be written before the build (D64)
    parse_var_overrides(overrides, together=False)
    if out_csv is not None:
        check_writable(out_csv)
    with open_serving_copy(settings.serving_copy) as served:
        build = read_build_info(served)
        published_inputs = set(
            served.execute(INPUT_FILES_SQL.format(table="serving.input_files")).fetchall()
        )
    # the overrides change the published run's vars: together they must make a valid set (an
    # unknown or invalid var is a ValueError, one line naming it)
    resolved = resolve_rule_vars(overrides, base=build.rule_vars)
    rule_vars, parsed = resolved.values, resolved.overrides
    if not settings.warehouse.exists():
        raise FileNotFoundError(f"warehouse not found: {settings.warehouse}")
    scratch = Path(tempfile.mkdtemp(prefix=".simulate-", dir=settings.warehouse.parent))
    try:
        database = scratch / "simulate.duckdb"
        # no run may start writing while the build reads the raw tables, and none is going
        try:
            with holding_warehouse(settings.warehouse, "rewards simulate"):
                inputs_differ = _inputs_differ(settings.warehouse, published_inputs)
                _build(settings, scratch, database, resolved)
        except WarehouseBusy as exc:
            raise SimulationFailed(
                f"{exc}; simulate reads its raw tables: try again when it is done"
            ) from exc
        con = duckdb.connect(str(database))
        try:
            con.execute("attach ? as published (read_only)", [str(settings.serving_copy)])
            now = _cost(con, "published.marts.program_summary")
            simulated = _cost(con, "simulate.marts.program_summary")
            figures = [(now[m], simulated[m]) for m in COST_METRICS]
            changed = con.execute(f"select count(*) from ({CHANGES_SQL})").fetchone()[0]
            top_changes = con.execute(
                f"select account_id, reward_points, simulated_points, change from "
                f"({CHANGES_SQL}) order by abs(change) desc, account_id limit {int(top)}"
            ).fetchall()
            if out_csv is not None:
                write_file(
                    out_csv,
                    lambda tmp: copy_query(
                        con, f"{CHANGES_SQL} order by account_id", tmp, "format csv, header true"
                    ),
                )
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return SimulationResult(
        rule_vars, parsed, build.dagster_run_id, figures, changed, top_changes, inputs_differ
    )


def _inputs_differ(warehouse: Path, published: set[tuple]) -> list[str]:
    """The landing files (dataset, file, size, modification time) the warehouse's raw tables
    hold that the published marts were not built from, and those they were built from that
    the raw tables no longer hold."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise SimulationFailed(_LOCKED.format(warehouse=warehouse)) from exc
    try:
        loaded = set(con.execute(INPUT_FILES_SQL.format(table=LOAD_FILES_TABLE)).fetchall())
    finally:
        con.close()
    return sorted({f"{dataset}/{Path(file).name}" for dataset, file, _, _ in loaded ^ published})


def _build(settings: Settings, scratch: Path, database: Path, rule_vars: RuleVars) -> None:
    env = {
        **settings_env(settings),
        "REWARDS_SIMULATE_DB": str(database),
        TEMP_DIR_ENV: str(scratch / "tmp"),
    }
    log_file = scratch / "dbt.log"
    with open(log_file, "w") as log, contextlib.redirect_stdout(log):
        result = invoke_on_warehouse(
            [
                "run",
                "--full-refresh",
                "--select",
                "path:models",
            ],
            env,
            scratch / "target",
            target="simulate",
            log_path=scratch,
            dbt_vars=rule_vars.values_json,
        )
    if not result.success:
        text = log_file.read_text()
        if "lock" in text.lower():
            raise SimulationFailed(_LOCKED.format(warehouse=settings.warehouse))
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise SimulationFailed(f"the simulated dbt build failed:\n{tail}")
