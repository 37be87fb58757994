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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTANCE_YAML = Path(__file__).with_name("dagster.yaml")
CONFIG_NAME = "dagster.yaml"
# The first line of the project's file: a copy that still starts with it is the project's, and
# is refreshed when the project's file changes; a file without it is the user's own.
MARKER = "# short-video-rewards:"


def prepare_dagster_home(home: Path) -> Path:
    """Create the instance folder and write the project's dagster.yaml there, unless a
    dagster.yaml of the user's own (one without the project's first line) is already there."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / CONFIG_NAME
    ours = INSTANCE_YAML.read_text()
    current = target.read_text() if target.exists() else None
    if current != ours and (current is None or current.startswith(MARKER)):
        partial = target.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
        partial.write_text(ours)
        partial.replace(target)  # atomic: `dagster dev` never reads half a file
    return home


@contextmanager
def open_instance(home: Path) -> Iterator:
    """The persistent Dagster instance in `home` (prepared first), closed on exit."""
    from dagster import DagsterInstance

    prepare_dagster_home(home)
    # `local_temp(tempdir=...)` is Dagster's public constructor for an instance kept in a given
    # folder: despite its name it is `DagsterInstance.get()` for that folder, reading its
    # dagster.yaml (tests/test_instance.py holds it to that), so no DAGSTER_HOME is exported.
    with DagsterInstance.local_temp(tempdir=str(home)) as instance:
        yield instance
