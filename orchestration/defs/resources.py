"""Resources shared by every domain: the landing directory and the DuckDB warehouse file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource, Failure, InitResourceContext
from pydantic import Field, PrivateAttr

from ..rule_vars import RuleVarError, parse_var_overrides, rule_var_defaults
from ..settings import DEFAULT_MEMORY_LIMIT, Settings
from ..warehouse_lock import RUN_WAIT_SECONDS, WarehouseBusy, WarehouseLock


class LandingResource(ConfigurableResource):
    """The landing directory: one folder per dataset of the data contract."""

    path: str

    def dataset_dir(self, dataset: str) -> Path:
        return Path(self.path) / dataset


class WarehouseResource(ConfigurableResource):
    """The embedded DuckDB warehouse file and how much of the machine DuckDB may use.

    A run holds the warehouse's advisory lock from its first step to its end (set up once per
    run by the in-process executor), so no other process opens the file between two of its
    steps; it waits for a reader that holds it (orchestration/warehouse_lock.py)."""

    path: str
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = 2
    temp_directory: str = ""
    _lock: WarehouseLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        log = context.log.warning if context.log is not None else None
        lock = WarehouseLock(Path(self.path))
        run_id = context.run.run_id if context.run is not None else "outside a run"
        try:
            lock.acquire(f"Dagster run {run_id}", RUN_WAIT_SECONDS, log)
        except WarehouseBusy as exc:
            raise Failure(description=str(exc)) from exc
        self._lock = lock

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse and close it again, so the dbt process can take the file next."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit, "threads": self.threads}
        if self.temp_directory:
            config["temp_directory"] = self.temp_directory
        con = duckdb.connect(self.path, read_only=read_only, config=config)
        con.execute("set enable_progress_bar = false")
        try:
            yield con
        finally:
            con.close()


class RuleVarsResource(ConfigurableResource):
    """The rule parameters of a run: dbt_project.yml's vars with this run's overrides.

    One place for both the dbt builds and the quality checks, so a check judges the marts by the
    very parameters they were built with. Set `overrides` in the launchpad's resources section,
    e.g. {"reward_rate": "0.02"}; `rewards run --var` does the same.
    """

    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Rule parameters to override for this run; keys as in dbt_project.yml vars.",
    )

    def parsed_overrides(self) -> dict[str, Any]:
        """The overrides as typed values; an unknown or invalid var fails the step with the
        same one line as `rewards run --var` (rule_vars.validate_rule_vars)."""
        try:
            return parse_var_overrides(self.overrides)
        except RuleVarError as exc:
            raise Failure(description=str(exc)) from exc

    def effective(self) -> dict[str, Any]:
        return {**rule_var_defaults(), **self.parsed_overrides()}


class QualityResource(ConfigurableResource):
    """Where Great Expectations keeps validation results and writes the Data Docs site."""

    path: str
    # "each_check": every check step renders its Data Docs page (runs from the UI);
    # "end_of_run": the caller renders them once after the run (`rewards run`, runner.py)
    data_docs: str = "each_check"


class FinanceResource(ConfigurableResource):
    """What finance reads and pays from: the serving copy of the marts and the payout ledger."""

    serving_copy: str
    ledger: str


def resources_from_settings(settings: Settings, data_docs: str = "each_check"
                            ) -> dict[str, ConfigurableResource]:
    return {
        "landing": LandingResource(path=str(settings.landing_dir)),
        "warehouse": WarehouseResource(
            path=str(settings.warehouse),
            memory_limit=settings.memory_limit,
            threads=settings.threads,
            temp_directory=str(settings.temp_directory),
        ),
        "rule_vars": RuleVarsResource(),
        "quality": QualityResource(path=str(settings.quality_dir), data_docs=data_docs),
        "finance": FinanceResource(serving_copy=str(settings.serving_copy),
                                   ledger=str(settings.ledger)),
    }
