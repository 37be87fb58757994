"""The project's Dagster instance (orchestration/instance.py, D27): where it lives, what its
dagster.yaml says, and that Dagster reads that file from the folder we name."""

from __future__ import annotations

import inspect
from pathlib import Path

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
    assert f'base_dir: "{home}/history/runs"' in config.read_text()

    # a copy an older version of the project wrote is the project's: refreshed
    first_line = INSTANCE_YAML.read_text().splitlines()[0]
    config.write_text(first_line + "\ntelemetry:\n  enabled: true\n")
    prepare_dagster_home(home)
    assert config.read_text() == render_instance_config(home)

    # a folder moved elsewhere gets its storage path rewritten
    moved = home.rename(tmp_path / "moved")
    prepare_dagster_home(moved)
    assert f'base_dir: "{moved}/history/runs"' in (moved / "dagster.yaml").read_text()
    home = moved
    config = home / "dagster.yaml"

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
        assert type(instance.event_log_storage).__name__ == "PooledSqliteEventLogStorage"
    with open_instance(home) as again:  # a second process opens the same history
        assert again.get_run_records() == []


# What orchestration/event_log_storage.py relies on inside Dagster's SqliteEventLogStorage
HOOKED = {
    "_connect": ["self", "shard"],
    "_initdb": ["self", "engine", "for_index_shard"],
    "has_table": ["self", "table_name"],
    "conn_string_for_shard": ["self", "shard_name"],
    "from_config_value": ["inst_data", "config_value"],
    "wipe": ["self"],
    "dispose": ["self"],
}


def test_the_hooked_dagster_storage_internals_are_still_there(tmp_path):
    """The one hook into Dagster's internals (event_log_storage.py): if a Dagster upgrade
    renames or reshapes what it overrides, this says what moved."""
    from dagster._core.storage.event_log import SqliteEventLogStorage

    for name, parameters in HOOKED.items():
        method = getattr(SqliteEventLogStorage, name, None)
        assert method is not None, f"SqliteEventLogStorage.{name} is gone: see event_log_storage.py"
        found = list(inspect.signature(method).parameters)
        assert found == parameters, (
            f"SqliteEventLogStorage.{name}{found} changed: see event_log_storage.py"
        )
    storage = SqliteEventLogStorage(str(tmp_path / "plain"))
    for attribute in ("_db_lock", "_initialized_dbs"):
        assert hasattr(storage, attribute), (
            f"SqliteEventLogStorage no longer has {attribute}: see event_log_storage.py"
        )
    storage.dispose()


def test_the_pooled_event_log_keeps_what_dagsters_own_reads(tmp_path):
    """Events written through the kept connections are there for Dagster's plain storage (the
    UI's, where the user's own dagster.yaml has no pooled class) in the same files."""
    from dagster import AssetKey, AssetMaterialization, DagsterInstance, job, op
    from dagster._core.storage.event_log import SqliteEventLogStorage

    @op
    def emit(context):
        context.log_event(AssetMaterialization(AssetKey("probe"), metadata={"rows": 3}))

    @job
    def probe():
        emit()

    home = tmp_path / "home"
    with open_instance(home) as instance:
        for _ in range(2):
            assert probe.execute_in_process(instance=instance).success
        assert len(instance.fetch_materializations(AssetKey("probe"), limit=5).records) == 2
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    with DagsterInstance.ephemeral() as reader:
        plain.register_instance(reader)
        records = plain.fetch_materializations(AssetKey("probe"), limit=5).records
        assert [r.asset_materialization.metadata["rows"].value for r in records] == [3, 3]
    plain.dispose()


def test_the_pooled_event_log_commits_without_a_disk_sync_and_asks_for_tables_once(
    tmp_path, monkeypatch
):
    """Each kept connection is in SQLite's WAL mode (Dagster's) with `synchronous=NORMAL`: a
    commit no longer waits for the disk (D27). Dagster's check for the asset-check table, asked
    before every check event, opens an engine only until the table has been found."""
    from dagster._core.storage.event_log import SqliteEventLogStorage

    from orchestration.event_log_storage import PooledSqliteEventLogStorage

    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    try:
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        asked = []
        plain_has_table = SqliteEventLogStorage.has_table
        monkeypatch.setattr(
            SqliteEventLogStorage,
            "has_table",
            lambda self, name: asked.append(name) or plain_has_table(self, name),
        )
        for _ in range(3):
            assert storage.has_table("asset_check_executions")
            assert not storage.has_table("no_such_table")
        assert asked == ["asset_check_executions"] + ["no_such_table"] * 3
    finally:
        storage.dispose()
