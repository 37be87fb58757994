"""The project's Dagster instance: one persistent history for the CLI, the schedule and the UI.

Runs started by `rewards run` or `rewards demo`, by the UI, the schedule or the sensor, all
record their materializations, check results and metadata in the same instance, and the
schedule's and sensor's toggles are kept there too. The instance folder is `DAGSTER_HOME` when
set, else `<warehouse>.dagster/` beside the warehouse (`data/warehouse.dagster/` by default;
Settings.dagster_home). Its configuration is the project's own `orchestration/dagster.yaml`
(docs/decisions.md, D27).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .file_lock import FileLock

INSTANCE_YAML = Path(__file__).with_name("dagster.yaml")
CONFIG_NAME = "dagster.yaml"
# Run tags: every run says what triggered it (cli, schedule, landing_files); a CLI run also says
# its command, process and host, so a later run can tell that it died
TRIGGER_TAG, COMMAND_TAG, PID_TAG, HOST_TAG = (
    "rewards/trigger",
    "rewards/command",
    "rewards/pid",
    "rewards/host",
)
# The first line of the project's file: a copy that still starts with it is the project's, and
# is refreshed when the project's file changes; a file without it is the user's own.
MARKER = "# short-video-rewards:"
OPEN_LOCK_NAME = ".rewards-open.lock"


def prepare_dagster_home(home: Path) -> Path:
    """Create the instance folder and write the project's dagster.yaml there, unless a
    dagster.yaml of the user's own (one without the project's first line) is already there.
    ValueError, one line, for a folder Dagster's SQLite storage cannot open."""
    if "%" in str(home):
        # Dagster's SQLite storage puts the folder into a SQLAlchemy URL as it is, and
        # SQLAlchemy decodes `%41` there as `A`: the history would go to another folder or
        # nowhere. Every other character works (tests/test_cli.py runs under `$`, quotes, `;`,
        # a space and Chinese).
        raise ValueError(
            f"the Dagster instance folder {home} has a '%' in its path, which Dagster's SQLite "
            "storage cannot open; put the warehouse elsewhere or set DAGSTER_HOME to a folder "
            "without '%'"
        )
    home.mkdir(parents=True, exist_ok=True)
    target = home / CONFIG_NAME
    ours = render_instance_config(home)
    current = target.read_text() if target.exists() else None
    if current != ours and (current is None or current.startswith(MARKER)):
        partial = target.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
        partial.write_text(ours)
        partial.replace(target)  # atomic: `dagster dev` never reads half a file
    return home


def render_instance_config(home: Path) -> str:
    """The project's dagster.yaml for the instance folder `home`: the same for every folder
    (Dagster's stock storage lives in the folder it is read from)."""
    return INSTANCE_YAML.read_text()


@contextmanager
def open_instance(home: Path) -> Iterator:
    """The persistent Dagster instance in `home` (prepared first), closed on exit. Opened under
    a lock on `home/.rewards-open.lock`: two processes creating a new instance's SQLite storage
    at once collide on its tables (`table runs already exists`, D56)."""
    from dagster import DagsterInstance

    prepare_dagster_home(home)
    with ExitStack() as stack:
        with FileLock(home / OPEN_LOCK_NAME):
            # `local_temp(tempdir=...)` is Dagster's public constructor for an instance kept in
            # a given folder: despite its name it is `DagsterInstance.get()` for that folder,
            # reading its dagster.yaml (tests/test_instance.py holds it to that), so no
            # DAGSTER_HOME is exported. It creates the storage's tables when they are missing.
            instance = stack.enter_context(DagsterInstance.local_temp(tempdir=str(home)))
        yield instance


def cli_run_tags(command: str) -> dict[str, str]:
    """The tags of a run that `rewards <command>` executes in this process."""
    return {
        TRIGGER_TAG: "cli",
        COMMAND_TAG: command,
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def fail_abandoned_cli_runs(instance) -> list[str]:
    """Mark failed the CLI runs whose process is gone (`kill -9`, a closed terminal, a reboot).

    Dagster's run monitoring only watches the runs it launched itself, so such a run would stay
    "Started" in the UI for ever, and the landing sensor would wait on it. Called before every
    CLI run and by the sensor; returns the ids of the runs it marked."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = instance.get_run_records(
        RunsFilter(
            tags={TRIGGER_TAG: "cli"},
            statuses=[
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
                DagsterRunStatus.CANCELING,
            ],
        )
    )
    marked = []
    for record in unfinished:
        run = record.dagster_run
        pid, host = run.tags.get(PID_TAG, ""), run.tags.get(HOST_TAG)
        if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"the `rewards {run.tags.get(COMMAND_TAG, 'run')}` process that ran it (pid {pid} "
                f"on {host}) ended before the run did; marked failed by a later check"
            ),
        )
        marked.append(run.run_id)
    return marked
