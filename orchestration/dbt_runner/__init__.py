"""The one place dbt is invoked: every caller (the Dagster build, `rewards simulate`, the Spark
build, the manifest for the code location, the tests) runs dbt through `invoke`, in this
process, through dbt-core's documented programmatic API (`dbtRunner`).

**The warehouse is a profile.** dbt is handed a profiles.yml written for the warehouse it builds
(`profiles.write_profile`: the `duckdb` target of dbt_project/profiles.yml with the warehouse's
path and DuckDB's resources filled in), kept in `<warehouse>.dbt/profile/`, and everything else
on its command line: the project, profiles, target and log folders are flags, never `DBT_*`
variables, and `os.environ` is neither read for them nor written.

**In process.** A `dbt` subprocess pays for a Python start-up and importing dbt (~6 s here) on
every invocation, and dagster-dbt's `DbtCliResource` adds a `dbt --version` subprocess (~6 s);
a run makes one dbt invocation, in the process that runs the Dagster step, and the structured
events dbt hands its callbacks become Dagster events through dagster-dbt's public
`DbtCliEventMessage` (orchestration/defs/warehouse/dbt_build.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ..file_lock import FileLock
from ..settings import (
    DBT_PROJECT_DIR,
    MEMORY_LIMIT_ENV,
    TEMP_DIR_ENV,
    THREADS_ENV,
    WAREHOUSE_ENV,
    Settings,
)
from .profiles import profile_output, write_profile


def warehouse_env(
    warehouse: str | Path, memory_limit: str, threads: int, temp_directory: str | Path
) -> dict[str, str]:
    """The values of profiles.yml's `duckdb` target: the warehouse file and DuckDB's resources."""
    return {
        WAREHOUSE_ENV: str(warehouse),
        MEMORY_LIMIT_ENV: memory_limit,
        THREADS_ENV: str(threads),
        TEMP_DIR_ENV: str(temp_directory),
    }


def settings_env(settings: Settings) -> dict[str, str]:
    return warehouse_env(
        settings.warehouse, settings.memory_limit, settings.threads, settings.temp_directory
    )


def dbt_target_dir(warehouse: str | Path) -> Path:
    """Where dbt keeps its state for builds of `warehouse`: `<warehouse>.dbt/`. Its partial-parse
    state names the warehouse file, so runs of other warehouses do not invalidate it."""
    return Path(warehouse).with_suffix(".dbt")


def warehouse_profile(values: Mapping[str, str], target_path: Path, target: str = "duckdb") -> Path:
    """The profiles folder for builds into `target_path`: `<target_path>/profile/`, with the
    profile of `target` written for `values` (warehouse_env)."""
    return write_profile(target_path / "profile", target, values)


@contextmanager
def warehouse_held(values: Mapping[str, str], target: str = "duckdb") -> Iterator[None]:
    """The warehouse of `values` open in this process while dbt builds it.

    The profile closes the file when dbt's last connection closes (`keep_open: false`, so the
    steps after dbt can open it), and dbt closes its connection after every node: alone, dbt
    would open the database file again for each of its ~120 nodes (~40 ms each here). A
    connection held with the profile's own configuration keeps DuckDB's database instance
    alive, so each of dbt's connections joins it instead; the file closes when this block
    ends."""
    output = profile_output(target, values)
    con = duckdb.connect(output["path"], config=dict(output.get("config_options") or {}))
    try:
        yield
    finally:
        con.close()


def invoke(
    args: Sequence[str],
    profiles_dir: Path,
    target_path: Path,
    log_path: Path | None = None,
    manifest: Any = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
):
    """`dbt ARGS` in this process with the profile in `profiles_dir`; dbt's target folder is
    `target_path` (its log goes to `log_path`, by default the same folder). Returns dbt's
    `dbtRunnerResult`."""
    from dbt.cli.main import dbtRunner

    full_args = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path or target_path),
        "--no-send-anonymous-usage-stats",
    ]
    return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(full_args)


def invoke_on_warehouse(
    args: Sequence[str],
    values: Mapping[str, str],
    target_path: Path,
    target: str = "duckdb",
    log_path: Path | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
):
    """`dbt ARGS` on the DuckDB database of `values` (warehouse_env), through the profile of
    `target` written for it into `target_path`, with the database held open while dbt runs
    (warehouse_held). Returns dbt's `dbtRunnerResult`."""
    profiles_dir = warehouse_profile(values, target_path, target)
    with warehouse_held(values, target):
        return invoke(args, profiles_dir, target_path, log_path, callbacks=callbacks)


def parse(
    profiles_dir: Path,
    target_path: Path,
    args: Sequence[str] = (),
    unless: Callable[[], bool] | None = None,
):
    """`dbt parse` into `target_path`, holding the folder while dbt reads and rewrites its
    partial-parse state there: two processes parsing at once (`dg dev` and `rewards run`, or two
    test workers) could read each other's half-written file. Returns the manifest; with
    `unless`, nothing when it holds once the folder is held (another process parsed meanwhile)."""
    target_path.mkdir(parents=True, exist_ok=True)
    with FileLock(target_path / ".parse.lock"):
        if unless is not None and unless():
            return None
        result = invoke(["parse", "--quiet", *args], profiles_dir, target_path)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result
