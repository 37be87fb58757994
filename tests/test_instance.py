"""The project's Dagster instance (orchestration/instance.py, D27): where it lives, what its
dagster.yaml says, and that Dagster reads that file from the folder we name."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.instance import (
    INSTANCE_YAML,
    open_instance,
    prepare_dagster_home,
    render_instance_config,
)
from orchestration.settings import Settings


def test_the_instance_lives_beside_the_warehouse_unless_dagster_home_says_otherwise(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert Settings.from_env({"REWARDS_WAREHOUSE": str(warehouse)}).dagster_home == (
        tmp_path / "w.dagster"
    )
    home = tmp_path / "elsewhere"
    assert (
        Settings.from_env(
            {"REWARDS_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(home)}
        ).dagster_home
        == home
    )


def test_the_projects_dagster_yaml_is_written_refreshed_and_a_users_own_kept(tmp_path):
    home = prepare_dagster_home(tmp_path / "home")
    config = home / "dagster.yaml"
    assert config.read_text() == render_instance_config(home)
    # Dagster's stock storage: no storage section, so SQLite files in the instance folder
    assert not {"storage", "event_log_storage", "run_storage"} & set(
        yaml.safe_load(config.read_text())
    )

    # a copy an older version of the project wrote is the project's: refreshed
    first_line = INSTANCE_YAML.read_text().splitlines()[0]
    config.write_text(first_line + "\ntelemetry:\n  enabled: true\n")
    prepare_dagster_home(home)
    assert config.read_text() == render_instance_config(home)

    # a dagster.yaml of the user's own (no project header) is left as it is
    own = "telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 3\n"
    config.write_text(own)
    prepare_dagster_home(home)
    assert config.read_text() == own


def test_dagster_reads_the_instance_config_from_the_folder_we_name(tmp_path: Path):
    """`DagsterInstance.local_temp(tempdir=...)` is the public constructor we open the instance
    with: it must keep reading that folder's dagster.yaml and keep the history there. If a
    Dagster upgrade changes that, the CLI's runs would silently go to another history."""
    home = tmp_path / "home"
    with open_instance(home) as instance:
        assert instance.is_persistent, "Dagster no longer keeps this instance on disk"
        assert instance.root_directory == str(home), (
            f"Dagster keeps the instance in {instance.root_directory}, not in {home}"
        )
        assert instance.get_settings("concurrency") == {"runs": {"max_concurrent_runs": 1}}, (
            "Dagster did not read orchestration/dagster.yaml from the instance folder"
        )
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        # Dagster's stock storage: SQLite files in the instance folder
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
    with open_instance(home) as again:  # a second process opens the same history
        assert again.get_run_records() == []


def test_a_folder_dagster_cannot_open_is_refused_in_one_line(tmp_path):
    """Dagster's SQLite storage reads the instance folder as a URL, where `%41` means `A`: such
    a folder is refused up front, naming it, instead of a traceback from SQLite."""
    import pytest

    from orchestration.instance import prepare_dagster_home

    home = tmp_path / "p%41" / "w.dagster"
    with pytest.raises(ValueError, match=r"has a '%' in its path.*DAGSTER_HOME") as refused:
        prepare_dagster_home(home)
    assert str(home) in str(refused.value) and "\n" not in str(refused.value)
    assert not home.exists()


# One process opening new instances, each at the moment a file named `go` appears beside it
_OPEN_AT_GO = """
import sys, time
from pathlib import Path
import dagster
from orchestration.instance import open_instance
for home in map(Path, sys.argv[1:]):
    print("ready", flush=True)
    while not (home.parent / "go").exists():
        time.sleep(0.001)
    with open_instance(home) as instance:
        print("runs", len(instance.get_run_records()), flush=True)
"""


def test_processes_opening_a_new_instance_at_once_all_open_it(tmp_path):
    """D56: three processes creating a new instance's SQLite storage at the same moment collide
    without a lock (`table runs already exists`, `UNIQUE constraint failed:
    alembic_version.version_num`: each of 3 runs of this test without it, on a 2-core
    machine); open_instance creates it under one, so each opens the same, empty history.
    Three new instances in a row."""
    import subprocess
    import sys

    homes = [tmp_path / f"try{n}" / "w.dagster" for n in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AT_GO, *map(str, homes)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for home in homes:
            for process in processes:  # Dagster imported, waiting for `go`
                assert process.stdout.readline() == "ready\n", process.stderr.read()[-2000:]
            home.parent.mkdir()
            (home.parent / "go").touch()
            for process in processes:
                assert process.stdout.readline() == "runs 0\n", process.stderr.read()[-2000:]
    finally:
        for process in processes:
            process.kill()
            process.communicate()
