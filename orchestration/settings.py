"""Where the landing files and the warehouse live, and how DuckDB may use the machine.

Everything comes from environment variables so the same code runs in dev, CI and prod; the
defaults keep a fresh clone working (`data/` under the repository, git-ignored).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
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
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from `environ` (this process's environment by default)."""
        environ = os.environ if environ is None else environ
        warehouse = Path(environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).resolve()
        return cls(
            landing_dir=Path(environ.get(LANDING_ENV) or DEFAULT_LANDING_DIR).resolve(),
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
            serving_copy=Path(os.path.abspath(
                environ.get(SERVING_ENV) or warehouse.with_suffix(".serving.duckdb"))),
            ledger=Path(
                environ.get(LEDGER_ENV) or warehouse.with_suffix(".ledger.duckdb")
            ).resolve(),
            dagster_home=Path(
                environ.get(DAGSTER_HOME_ENV) or warehouse.with_suffix(".dagster")
            ).resolve(),
        )

    def export_to_env(self) -> None:
        """Publish the resolved values dbt's profile (profiles.yml) reads, so dbt opens the same
        warehouse with the same resources. Only those: the other paths are the Dagster
        resources' business, and exporting them would hand a later `rewards --warehouse OTHER`
        in a child process this warehouse's serving copy, ledger and quality folder."""
        os.environ[WAREHOUSE_ENV] = str(self.warehouse)
        os.environ[MEMORY_LIMIT_ENV] = self.memory_limit
        os.environ[THREADS_ENV] = str(self.threads)
        os.environ[TEMP_DIR_ENV] = str(self.temp_directory)


@contextlib.contextmanager
def temporary_env(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) these environment variables for the length of the block, then
    put back what was there."""
    saved = {key: os.environ.get(key) for key in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
