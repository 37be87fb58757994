"""The one place dbt is invoked: every caller (the Dagster build, `rewards simulate`, the Spark
build, the manifest for the code location, the tests) runs dbt through `invoke`, in this
process, through dbt-core's documented programmatic API (`dbtRunner`).

**The warehouse is a profile.** dbt is handed a profiles.yml written for the warehouse it builds
(`profiles.write_profile`: the `duckdb` target of dbt_project/profiles.yml with the warehouse's
path and DuckDB's resources filled in), kept in `<warehouse>.dbt/profile/`, and everything else
on its command line: the project, profiles, target and log folders are flags, never `DBT_*`
variables, and `os.environ` is neither read for them nor written.

**One parse per process and rendering.** dbt renders a manifest from the project's files, the
target and the vars; the warehouse file enters it only as its database name (dbt-duckdb names
the database after the file's stem). A build parses (`dbt parse`, which keeps dbt's
partial-parse state in the warehouse's target folder for the next process) and then builds
with that manifest handed to `dbtRunner(manifest=...)`, dbt's documented reuse; the next build
in the same process with the same target, database name, schema, vars and project files
reuses it instead of parsing again, whichever warehouse file it builds (the test suite's runs,
a run after a simulation). dbt registers the adapter for the new profile on every invocation,
so the reused manifest builds the new warehouse.

**In process.** A `dbt` subprocess pays for a Python start-up and importing dbt (~6 s here) on
every invocation, and dagster-dbt's `DbtCliResource` adds a `dbt --version` subprocess (~6 s);
a run makes one dbt invocation, in the process that runs the Dagster step, and the structured
events dbt hands its callbacks become Dagster events through dagster-dbt's public
`DbtCliEventMessage` (orchestration/defs/warehouse/dbt_build.py).
"""

from __future__ import annotations

import threading
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
    dbt_vars: str | None = None,
):
    """`dbt ARGS` on the DuckDB database of `values` (warehouse_env), through the profile of
    `target` written for it into `target_path`, with the database held open while dbt runs
    (warehouse_held), and `--vars dbt_vars` when given; the manifest is this process's parse for
    the same rendering (parsed_manifest). Returns dbt's `dbtRunnerResult`."""
    profiles_dir = warehouse_profile(values, target_path, target)
    vars_args = ["--vars", dbt_vars] if dbt_vars else []
    output = profile_output(target, values)
    manifest = parsed_manifest(target, output, profiles_dir, target_path, vars_args)
    with warehouse_held(values, target):
        return invoke(
            [*args, *vars_args],
            profiles_dir,
            target_path,
            log_path,
            manifest=manifest,
            callbacks=callbacks,
        )


# manifests parsed in this process, by what dbt renders them from (_rendering); a few at most:
# the default vars and a simulation's or a test's overrides
_PARSED: dict[tuple, Any] = {}
_PARSED_LOCK = threading.Lock()
_PARSED_KEPT = 4
_PROJECT_SOURCES = ("dbt_project.yml", "models", "macros", "tests", "seeds", "snapshots")


def _project_files_stamp() -> tuple[int, int]:
    """How many files the dbt project has and the newest one's mtime: a manifest parsed before
    an edit of the project is not reused after it."""
    stamps = []
    for name in _PROJECT_SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        stamps += [p.stat().st_mtime_ns for p in files]
    return len(stamps), max(stamps, default=0)


def _rendering(output: Mapping[str, Any], target: str, vars_args: Sequence[str]) -> tuple:
    """What a parse renders the manifest from besides the project's files: the target (its name
    and type, which the macros read), the database the relations are named in (a DuckDB file's
    stem), the schema, and the vars."""
    path = output.get("path")
    database = output.get("database") or (Path(str(path)).stem if path else None)
    return (target, output.get("type"), database, output.get("schema"), tuple(vars_args))


def parsed_manifest(
    target: str,
    output: Mapping[str, Any],
    profiles_dir: Path,
    target_path: Path,
    vars_args: Sequence[str],
):
    """dbt's manifest for builds through `target`'s profile output `output`: this process's earlier
    parse of the same rendering and project files, or `dbt parse` now (into `target_path`,
    keeping its partial-parse state there)."""
    key = (_rendering(output, target, vars_args), _project_files_stamp())
    with _PARSED_LOCK:
        if key in _PARSED:
            return _PARSED[key]
    manifest = parse(profiles_dir, target_path, ["--no-write-json", *vars_args])
    with _PARSED_LOCK:
        _PARSED[key] = manifest
        while len(_PARSED) > _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
    return manifest


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
