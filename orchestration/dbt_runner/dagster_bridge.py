"""dagster-dbt's resource with dbt run by `invoke` in this process (the package docstring says why).

`InProcessDbtResource` is dagster-dbt's `DbtCliResource`: selection, translator, dbt tests as
asset checks and errors are all dagster-dbt's. Only the start of dbt differs: instead of a
`subprocess.Popen`, `InProcessInvocation.run` starts `invoke` in a worker thread whose structured
events are handed to dagster-dbt as the JSON lines its subprocess would have printed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import dagster_dbt.core.resource as dagster_dbt_resource
import orjson
from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging.version import Version

from . import invoke, parsed_manifest

# dagster-dbt's environment for its subprocess, as dbt flags: click reads these from os.environ,
# which `invoke` leaves alone, so they travel on the command line instead
_FLAG_FROM_ENV = {
    "DBT_LOG_FORMAT": "--log-format",
    "DBT_INDIRECT_SELECTION": "--indirect-selection",
}
# what profiles.yml reads for the `build` running in this thread
_PROFILE_ENV: ContextVar[Mapping[str, str] | None] = ContextVar(
    "rewards_dbt_profile_env", default=None
)
_SWAP_LOCK = threading.Lock()


class InProcessDbtResource(DbtCliResource):
    """`dbt.cli(...)` as in dagster-dbt, executed in-process; call it through `build`."""

    @property
    def _cli_version(self) -> Version:
        # the dbt-core installed beside this interpreter: no `dbt --version` subprocess
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        # dagster-dbt builds a dbt adapter (profile, project, base macros: ~0.7 s a step) for
        # `fetch_row_counts()` / `fetch_column_metadata()`, which this project does not use
        # (metadata.py reads its own); it passes None when it has none, as for dbt Fusion
        return None

    def build(
        self, args: Sequence[str], env: Mapping[str, str], *, context: Any, target_path: Path
    ) -> DbtCliInvocation:
        """`cli(args)`, with profiles.yml reading `env` (dbt_runner.warehouse_env)."""
        token = _PROFILE_ENV.set(dict(env))
        try:
            with _starting_dbt_in_process():
                return self.cli(list(args), context=context, target_path=target_path)
        finally:
            _PROFILE_ENV.reset(token)


@contextlib.contextmanager
def _starting_dbt_in_process() -> Iterator[None]:
    """The one hook into dagster-dbt's `cli`: it looks `DbtCliInvocation` up in its module to
    start dbt; for the length of the call, that name is `InProcessInvocation`."""
    with _SWAP_LOCK:
        original = dagster_dbt_resource.DbtCliInvocation
        dagster_dbt_resource.DbtCliInvocation = InProcessInvocation
        try:
            yield
        finally:
            dagster_dbt_resource.DbtCliInvocation = original


class InProcessInvocation(DbtCliInvocation):
    @classmethod
    def run(
        cls,
        args,
        env,
        manifest,
        dagster_dbt_translator,
        project_dir,
        target_path,
        raise_on_error,
        context,
        adapter,
        cli_version,
        dbt_project=None,
    ):
        dbt_args = list(args[1:])  # [executable, command, ...] as dagster-dbt built them
        for name, flag in _FLAG_FROM_ENV.items():
            if name in env and flag not in dbt_args:
                dbt_args += [flag, env[name]]
        return cls(
            process=_DbtThread(
                dbt_args,
                dict(_PROFILE_ENV.get() or {}),  # type: ignore[arg-type]
                Path(project_dir) / target_path,
            ),
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


class _DbtThread:
    """What dagster-dbt reads of the `subprocess.Popen` it would have started (`stdout`, `wait`,
    `poll`, `returncode`, `send_signal`), backed by `invoke` in a worker thread."""

    def __init__(self, args: list[str], env: dict[str, str], target_path: Path) -> None:
        self.args = args
        self.returncode: int | None = None
        self._lines: queue.Queue = queue.Queue()
        self.stdout = _Lines(self._lines)
        self._thread = threading.Thread(
            target=self._run, args=(args, env, target_path), daemon=True, name="dbt"
        )
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
        self._emit(
            {
                "info": {
                    "name": "InProcessDbtError",
                    "level": "error",
                    "msg": message,
                    "ts": "",
                    "invocation_id": "",
                    "code": "",
                    "category": "",
                    "extra": {},
                    "pid": os.getpid(),
                    "thread": "dbt",
                },
                "data": {},
            }
        )

    def _run(self, args: list[str], env: dict[str, str], target_path: Path) -> None:
        from dbt_common.events.functions import msg_to_dict

        try:
            manifest = parsed_manifest(env, target_path, args)
            result = invoke(
                [*args, "--quiet", "--no-write-json"],
                env,
                target_path,
                manifest=manifest,
                callbacks=[lambda msg: self._emit(msg_to_dict(msg))],
            )
            if result.exception is not None:
                self._error(f"dbt failed: {result.exception}")
                self.returncode = 2
            else:
                self.returncode = 0 if result.success else 1
        except BaseException as exc:  # reported through dagster-dbt, never lost in a thread
            self._error(f"dbt failed: {exc!r}")
            self.returncode = 2
        finally:
            self._lines.put(None)


def hooked_api_problems() -> list[str]:
    """What moved, after a dagster-dbt upgrade, in what this module hooks; [] when nothing did
    (tests/test_dbt_runner.py)."""
    import inspect

    problems = []
    if not any("_cli_version" in vars(cls) for cls in DbtCliResource.__mro__):
        problems.append("DbtCliResource._cli_version is gone")
    initialize = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
    if initialize is None:
        problems.append("DbtCliResource._initialize_dbt_core_adapter is gone")
    elif list(inspect.signature(initialize).parameters) != ["self", "args"]:
        problems.append("DbtCliResource._initialize_dbt_core_adapter changed its parameters")
    cli = inspect.getsource(DbtCliResource.cli)
    for needle, what in [
        ("self._cli_version", "no longer reads the dbt version through _cli_version"),
        ("self._initialize_dbt_core_adapter(", "no longer builds its adapter through the hook"),
        ("adapter: BaseAdapter | None", "no longer allows running without an adapter"),
        ("DbtCliInvocation.run(", "no longer starts dbt through DbtCliInvocation.run"),
    ]:
        if needle not in cli:
            problems.append(f"DbtCliResource.cli {what}")
    if dagster_dbt_resource.DbtCliInvocation is not DbtCliInvocation:
        problems.append("dagster_dbt.core.resource no longer names DbtCliInvocation")
    theirs = list(inspect.signature(DbtCliInvocation.run).parameters)
    ours = list(inspect.signature(InProcessInvocation.run).parameters)
    if theirs != ours:
        problems.append(f"DbtCliInvocation.run{theirs} changed (ours: {ours})")
    return problems
