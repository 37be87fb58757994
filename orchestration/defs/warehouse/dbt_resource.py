"""The dbt resource: dagster-dbt's, with dbt run inside the Dagster process instead of a subprocess.

Every `dbt build` subprocess pays for a Python start-up, importing dbt (~4 s) and parsing the
project (~3 s; ~8 s when the warehouse path changed), and dagster-dbt adds a `dbt --version`
subprocess (~4 s). A run has three dbt steps (one per layer, so the quality gates can stop the
next layer), which made ~20 s of every run overhead, whatever the data size.

Here dbt runs through its programmatic API (`dbtRunner`) with a manifest parsed once per
process (per warehouse, vars and target), in a worker thread whose structured events are handed
to dagster-dbt exactly as its subprocess would have printed them (JSON lines). Everything
dagster-dbt does with them -- materializations, dbt tests as asset checks, errors -- is
unchanged. It builds no dbt adapter handle of its own either: that serves only its
`fetch_row_counts()`/`fetch_column_metadata()`, and metadata.py computes what the UI shows.
These builds do not rewrite `target/manifest.json` (`--no-write-json`): that file stays the one
`dbt parse` wrote for the Dagster definitions. After each invocation
dbt-duckdb's database handle is closed, so the file is free for the next step (the quality
checks open it read-only).

The hooks into dagster-dbt's internals are `DbtCliResource._cli_version`,
`DbtCliResource._initialize_dbt_core_adapter`, the module attribute
`dagster_dbt.core.resource.DbtCliInvocation` and `DbtCliInvocation.run`'s parameters;
dagster-dbt is pinned exactly in pyproject.toml and tests/test_dbt_resource.py says what moved
after an upgrade.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster_dbt.core.resource as dagster_dbt_resource
import orjson
from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging.version import Version

from .project import parse_lock

_MANIFESTS: dict[tuple, Any] = {}
_ENV_LOCK = threading.Lock()


class RewardsDbtCliResource(DbtCliResource):
    """`dbt.cli(...)` as in dagster-dbt, executed in-process (see the module docstring)."""

    @property
    def _cli_version(self) -> Version:
        # the dbt-core installed beside this interpreter: no `dbt --version` subprocess
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        # dagster-dbt builds a dbt adapter (profile, project, base macros: ~0.7 s a step) for
        # `fetch_row_counts()` / `fetch_column_metadata()`, which this project does not use
        # (metadata.py reads its own); it passes None when it has none, as for dbt Fusion
        return None

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        original = dagster_dbt_resource.DbtCliInvocation
        dagster_dbt_resource.DbtCliInvocation = InProcessDbtCliInvocation
        try:
            return super().cli(args, **kwargs)
        finally:
            dagster_dbt_resource.DbtCliInvocation = original


class InProcessDbtCliInvocation(DbtCliInvocation):
    @classmethod
    def run(cls, args, env, manifest, dagster_dbt_translator, project_dir, target_path,
            raise_on_error, context, adapter, cli_version, dbt_project=None):
        return cls(
            process=InProcessDbt(list(args), env),  # type: ignore[arg-type]
            manifest=manifest,
            project=dbt_project,
            dagster_dbt_translator=dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            context=context,
            adapter=adapter,
            cli_version=cli_version,
        )


class _Lines:
    """The `stdout` dagster-dbt reads: dbt's events as JSON lines, until the invocation ends."""

    closed = False

    def __init__(self, lines: queue.Queue) -> None:
        self._lines = lines

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not None:
            yield line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


class InProcessDbt:
    """What dagster-dbt needs of a `subprocess.Popen` running dbt, backed by `dbtRunner`."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args  # [executable, command, ...] as dagster-dbt built them
        self.returncode: int | None = None
        self._lines: queue.Queue = queue.Queue()
        self.stdout = _Lines(self._lines)
        self._thread = threading.Thread(target=self._invoke, args=(args[1:], env), daemon=True,
                                        name="dbt")
        self._thread.start()

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """dbt in a thread cannot be interrupted; the step ends when the running model does."""

    def _emit(self, event: dict) -> None:
        self._lines.put(orjson.dumps(event))

    def _error(self, message: str) -> None:
        self._emit({"info": {"name": "InProcessDbtError", "level": "error", "msg": message,
                             "ts": "", "invocation_id": "", "code": "", "category": "",
                             "extra": {}, "pid": os.getpid(), "thread": "dbt"},
                    "data": {}})

    def _invoke(self, dbt_args: list[str], env: dict[str, str]) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        # dagster-dbt's paths are relative to the project directory, its subprocess's cwd
        project_dir = Path(env["DBT_PROJECT_DIR"])
        paths = {name: str(project_dir / env[name]) for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH")
                 if name in env}
        try:
            with _environment({**env, **paths, "DBT_QUIET": "true"}):
                manifest = _parsed_manifest(dbt_args)
                result = dbtRunner(
                    manifest=manifest, callbacks=[lambda msg: self._emit(msg_to_dict(msg))]
                ).invoke([*dbt_args, "--no-write-json"])
            if result.exception is not None:
                self._error(f"dbt failed: {result.exception}")
                self.returncode = 2
            else:
                self.returncode = 0 if result.success else 1
        except BaseException as exc:  # reported through dagster-dbt, never lost in a thread
            self._error(f"dbt failed: {exc!r}")
            self.returncode = 2
        finally:
            release_duckdb()
            self._lines.put(None)


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def _parsed_manifest(dbt_args: list[str]):
    """The project parsed for this warehouse, vars and target, once per process. dbt writes the
    warehouse's file name into every relation, so the manifest depends on it."""
    from dbt.cli.main import dbtRunner

    parse_args = ["parse"]
    for name in ("--vars", "--target", "--profile"):
        if (value := _option(dbt_args, name)) is not None:
            parse_args += [name, value]
    key = (os.environ.get("REWARDS_WAREHOUSE"), os.environ.get("DBT_TARGET_PATH"),
           tuple(parse_args))
    if key not in _MANIFESTS:
        target = os.environ.get("DBT_TARGET_PATH")
        with parse_lock(Path(target)) if target else contextlib.nullcontext():
            result = dbtRunner().invoke(parse_args)
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """The environment dagster-dbt prepared for its subprocess, for the length of the call."""
    with _ENV_LOCK:
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def release_duckdb() -> None:
    """Close dbt-duckdb's process-wide database handle (it would keep the file open)."""
    with contextlib.suppress(ImportError):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                with contextlib.suppress(Exception):
                    DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None
