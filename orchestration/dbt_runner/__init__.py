"""The one place dbt is invoked: every caller (the Dagster assets, `rewards simulate`, the Spark
build, the manifest for the code location, the tests) runs dbt through `invoke`, in this
process, through dbt's programmatic API (`dbtRunner`).

**The environment is a value.** profiles.yml reads the warehouse path and DuckDB's resources
with `env_var()`. `invoke` takes those values as a dict and dbt sees them as its environment for
that one invocation, in that one thread; `os.environ` is never written. dbt-core reads its
environment once per invocation through `dbt.cli.requires.get_env` (its preflight), and
`_read_environment` stands in for it: `os.environ` overlaid with the invocation's values, held in
a context variable. Everything else dbt takes from its command line: `invoke` passes the project,
profiles, target and log folders as flags, never as `DBT_*` variables.

**In-process Dagster builds.** A `dbt build` subprocess pays for a Python start-up, importing dbt
(~4 s) and parsing the project (~3 s), and dagster-dbt adds a `dbt --version` subprocess (~4 s);
a run has three dbt steps, one per layer. `dagster_bridge.InProcessDbtResource` is dagster-dbt's
`DbtCliResource` (selection, translator, dbt tests as asset checks, errors: all unchanged) with
its subprocess replaced by `invoke` in a worker thread, whose structured events are handed to
dagster-dbt as the JSON lines its subprocess would have printed. The manifest is parsed once per
process per (environment, target folder, vars, target). These builds do not rewrite
`target/manifest.json` (`--no-write-json`): that file stays the one `dbt parse` wrote for the
Dagster definitions.

**The hooks into internals**, each confined to one function, with the packages pinned exactly in
pyproject.toml and tests/test_dbt_runner.py saying what moved after an upgrade:

* `_hand_environment_to_dbt` puts `_read_environment` in place of `dbt.cli.requires.get_env`
  (dbt-core);
* `release_duckdb` closes `DuckDBConnectionManager._ENV`, dbt-duckdb's process-wide database
  handle, which would keep the warehouse file open after the invocation (dbt-duckdb);
* `dagster_bridge._starting_dbt_in_process` lets dagster-dbt's `DbtCliResource.cli` start its
  invocation through `InProcessInvocation.run` instead of a `subprocess.Popen`;
  `InProcessDbtResource` overrides `_cli_version` (no `dbt --version` subprocess) and
  `_initialize_dbt_core_adapter` (no adapter handle: metadata.py computes what the UI shows)
  (dagster-dbt).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ..settings import (
    DBT_PROJECT_DIR,
    MEMORY_LIMIT_ENV,
    TEMP_DIR_ENV,
    THREADS_ENV,
    WAREHOUSE_ENV,
    Settings,
)

# The values profiles.yml reads with env_var(), for the invocation running in this thread
_INVOCATION_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("rewards_dbt_env", default=None)
_MANIFESTS: dict[tuple, Any] = {}
_HOOK_LOCK = threading.Lock()


def warehouse_env(
    warehouse: str | Path, memory_limit: str, threads: int, temp_directory: str | Path
) -> dict[str, str]:
    """What profiles.yml's `duckdb` target reads: the warehouse file and DuckDB's resources."""
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


def invoke(
    args: Sequence[str],
    env: Mapping[str, str],
    target_path: Path,
    log_path: Path | None = None,
    manifest: Any = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    profiles_dir: Path | None = None,
):
    """`dbt ARGS` in this process, with profiles.yml reading `env` (or the profile written into
    `profiles_dir`: dbt_runner.profiles); dbt's target folder is `target_path` (its log goes to
    `log_path`, by default the same folder). Returns dbt's `dbtRunnerResult`. The DuckDB file
    dbt opened is closed again before this returns."""
    from dbt.cli.main import dbtRunner

    _hand_environment_to_dbt()
    full_args = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir or DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path or target_path),
        "--no-send-anonymous-usage-stats",
    ]
    token = _INVOCATION_ENV.set(dict(env))
    try:
        return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(full_args)
    finally:
        _INVOCATION_ENV.reset(token)
        release_duckdb()


def parse(
    env: Mapping[str, str],
    target_path: Path,
    args: Sequence[str] = (),
    unless: Callable[[], bool] | None = None,
):
    """`dbt parse` into `target_path`, holding the folder while dbt reads and rewrites its
    partial-parse state there: two processes parsing at once (`dagster dev` and `rewards run`,
    or two test workers) could read each other's half-written file. Returns the manifest; with
    `unless`, nothing when it holds once the folder is held (another process parsed meanwhile)."""
    import fcntl

    target_path.mkdir(parents=True, exist_ok=True)
    with open(target_path / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if unless is not None and unless():
                return None
            result = invoke(["parse", "--quiet", *args], env, target_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result


def parsed_manifest(env: Mapping[str, str], target_path: Path, args: Sequence[str]):
    """The project parsed for this environment, target folder and the `--vars`/`--target` in
    `args`, once per process (dbt writes the warehouse's file name into every relation, so the
    manifest depends on it)."""
    parse_args: list[str] = []
    for name in ("--vars", "--target", "--profile"):
        if name in args[:-1]:
            parse_args += [name, args[list(args).index(name) + 1]]
    key = (tuple(sorted(env.items())), str(target_path), tuple(parse_args))
    if key not in _MANIFESTS:
        _MANIFESTS[key] = parse(env, target_path, parse_args)
    return _MANIFESTS[key]


# --- hooks into internals: one function each (module docstring) -------------------------------


def _read_environment() -> dict[str, str]:
    """dbt's environment for this invocation: the process's, overlaid with `invoke`'s values."""
    return {**os.environ, **(_INVOCATION_ENV.get() or {})}


def _hand_environment_to_dbt() -> None:
    """Have dbt-core read its environment through `_read_environment` (dbt-core reads it once per
    invocation, in its preflight, through `dbt.cli.requires.get_env`)."""
    import dbt.cli.requires as requires

    with _HOOK_LOCK:
        if requires.get_env is not _read_environment:
            requires.get_env = _read_environment


def release_duckdb() -> None:
    """Close dbt-duckdb's process-wide database handle (it would keep the file open)."""
    with contextlib.suppress(ImportError):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                with contextlib.suppress(Exception):
                    DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None


def hooked_api_problems() -> list[str]:
    """What moved, after a dbt-core or dbt-duckdb upgrade, in what this module hooks; [] when
    nothing did (tests/test_dbt_runner.py)."""
    import inspect

    import dbt.cli.requires as requires
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    problems = []
    if "get_env()" not in inspect.getsource(requires.preflight):
        problems.append("dbt-core's preflight no longer reads its environment through get_env()")
    if not hasattr(requires, "get_env"):
        problems.append("dbt.cli.requires.get_env is gone")
    for name in ("_ENV", "_LOCK"):
        if not hasattr(DuckDBConnectionManager, name):
            problems.append(f"dbt-duckdb's DuckDBConnectionManager.{name} is gone (release_duckdb)")
    return problems
