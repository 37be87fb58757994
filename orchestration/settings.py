"""Where the landing files and the warehouse live, and how DuckDB may use the machine.

One frozen value, `Settings`, resolved once from the environment (and the CLI's flags) and then
handed to whatever needs it: the runner, the Dagster resources, dbt (dbt_runner.settings_env),
finance. Nothing writes it back into `os.environ`. The defaults keep a fresh clone working
(`data/` under the repository, git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

LANDING_ENV = "REWARDS_LANDING_DIR"
WAREHOUSE_ENV = "REWARDS_WAREHOUSE"
MEMORY_LIMIT_ENV = "REWARDS_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "REWARDS_DUCKDB_THREADS"
TEMP_DIR_ENV = "REWARDS_DUCKDB_TEMP_DIR"
QUALITY_DIR_ENV = "REWARDS_QUALITY_DIR"
SERVING_ENV = "REWARDS_SERVING_COPY"
LEDGER_ENV = "REWARDS_LEDGER"
DAGSTER_HOME_ENV = "DAGSTER_HOME"  # Dagster's own variable: overrides the project's instance

# DuckDB's share of a 24 GB, 2-core machine: the pipeline (DuckDB, dbt and the quality checks
# share one process) stays under 8 GB peak at 100M orders; larger intermediates spill to
# the temp directory (docs/benchmarks.md).
DEFAULT_MEMORY_LIMIT = "5GB"
DEFAULT_LANDING_DIR = REPO_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE = REPO_ROOT / "data" / "warehouse.duckdb"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    memory_limit: str
    threads: int
    temp_directory: Path
    quality_dir: Path
    # What finance reads: a read-only copy of the marts, swapped in after each good run, and the
    # append-only payout ledger (orchestration/finance, docs/finance.md)
    serving_copy: Path
    ledger: Path
    # The Dagster instance (run history, materializations, check results, schedule and sensor
    # state) that `rewards run` and `rewards ui` share (orchestration/instance.py, D27)
    dagster_home: Path

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        landing_dir: Path | None = None,
        warehouse: Path | None = None,
    ) -> Settings:
        """The settings from `environ` (this process's environment by default); `landing_dir`
        and `warehouse` (the CLI's flags) take the place of their variables, and the paths
        derived from the warehouse follow it."""
        environ = os.environ if environ is None else environ
        warehouse = Path(warehouse or environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).resolve()
        return cls(
            landing_dir=Path(
                landing_dir or environ.get(LANDING_ENV) or DEFAULT_LANDING_DIR
            ).resolve(),
            warehouse=warehouse,
            memory_limit=environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
            threads=int(environ.get(THREADS_ENV) or os.cpu_count() or 2),
            temp_directory=Path(
                environ.get(TEMP_DIR_ENV) or warehouse.with_suffix(".tmp")
            ).resolve(),
            # Great Expectations' results and Data Docs (`data_docs/index.html`) of this warehouse
            quality_dir=Path(
                environ.get(QUALITY_DIR_ENV) or warehouse.with_suffix(".gx")
            ).resolve(),
            # not resolved: the serving copy is a link to its current generation (D23)
            serving_copy=Path(
                os.path.abspath(
                    environ.get(SERVING_ENV) or warehouse.with_suffix(".serving.duckdb")
                )
            ),
            ledger=Path(
                environ.get(LEDGER_ENV) or warehouse.with_suffix(".ledger.duckdb")
            ).resolve(),
            dagster_home=Path(
                environ.get(DAGSTER_HOME_ENV) or warehouse.with_suffix(".dagster")
            ).resolve(),
        )
