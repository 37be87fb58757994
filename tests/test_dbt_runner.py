"""The dbt runner (orchestration/dbt_runner): the one place dbt runs, and its hooks into dbt-core,
dbt-duckdb and dagster-dbt internals. If an upgrade renames or reshapes what it hooks, these tests
say what moved instead of a run failing somewhere inside dbt or dagster-dbt."""

from __future__ import annotations

import inspect
import os
import threading

import dagster_dbt.core.resource as dagster_dbt_resource
import dbt.cli.requires as dbt_requires
import duckdb
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt_common.clients import system as dbt_system

from orchestration.dbt_runner import _read_environment, invoke, warehouse_env
from orchestration.dbt_runner.dagster_bridge import InProcessInvocation

SEE = "see orchestration/dbt_runner"


def test_dbt_core_still_reads_its_environment_through_get_env():
    assert "get_env()" in inspect.getsource(dbt_requires.preflight), (
        f"dbt-core's preflight no longer reads its environment through get_env(): {SEE}"
    )
    assert hasattr(dbt_system, "get_env"), f"dbt_common.clients.system.get_env is gone: {SEE}"


def test_dbt_duckdb_still_keeps_one_process_wide_database_handle():
    assert hasattr(DuckDBConnectionManager, "_ENV"), (
        f"dbt-duckdb's DuckDBConnectionManager._ENV is gone: {SEE} (release_duckdb)"
    )
    assert hasattr(DuckDBConnectionManager, "_LOCK"), (
        f"dbt-duckdb's DuckDBConnectionManager._LOCK is gone: {SEE} (release_duckdb)"
    )


def test_the_overridden_resource_members_are_still_dagster_dbts():
    assert any("_cli_version" in vars(cls) for cls in DbtCliResource.__mro__), (
        f"DbtCliResource._cli_version is gone: {SEE}"
    )
    initialize = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
    assert initialize is not None, f"DbtCliResource._initialize_dbt_core_adapter is gone: {SEE}"
    assert list(inspect.signature(initialize).parameters) == ["self", "args"], (
        f"DbtCliResource._initialize_dbt_core_adapter changed its parameters: {SEE}"
    )
    # dagster-dbt's cli() still asks these for the version and the adapter, and accepts None
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source, (
        f"DbtCliResource.cli no longer reads the dbt version through _cli_version: {SEE}"
    )
    assert "self._initialize_dbt_core_adapter(" in source, (
        f"DbtCliResource.cli no longer builds its adapter through the hooked method: {SEE}"
    )
    assert "adapter: BaseAdapter | None" in source, (
        f"DbtCliResource.cli no longer allows running without an adapter: {SEE}"
    )


def test_the_swapped_invocation_class_is_still_looked_up_from_the_module():
    assert dagster_dbt_resource.DbtCliInvocation is DbtCliInvocation, (
        f"dagster_dbt.core.resource no longer names DbtCliInvocation: {SEE}"
    )
    assert "DbtCliInvocation.run(" in inspect.getsource(DbtCliResource.cli), (
        f"DbtCliResource.cli no longer starts dbt through DbtCliInvocation.run: {SEE}"
    )
    theirs = list(inspect.signature(DbtCliInvocation.run).parameters)
    ours = list(inspect.signature(InProcessInvocation.run).parameters)
    assert theirs == ours, f"DbtCliInvocation.run{theirs} changed (ours: {ours}): {SEE}"


def test_each_invocation_gets_its_own_environment_and_os_environ_is_untouched(tmp_path):
    """Two `dbt show`s, one in a worker thread (as the Dagster steps run dbt), one here, each
    handed its own warehouse: each opens (and so creates) its own file, because profiles.yml
    reads the values handed to `invoke`; neither writes `os.environ` nor leaves its values
    behind for the next invocation; both files are closed again afterwards."""
    before = dict(os.environ)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        env = warehouse_env(tmp_path / f"{name}.duckdb", "1GB", 1, tmp_path / f"{name}.tmp")
        results[name] = invoke(
            ["show", "--inline", "select 1 as one"], env, target_path=tmp_path / f"{name}.dbt"
        )

    worker = threading.Thread(target=run, args=("first",))
    worker.start()
    worker.join()
    run("second")
    assert dict(os.environ) == before
    assert _read_environment() == before  # nothing of either invocation stays behind
    for name in ("first", "second"):
        assert results[name].success, results[name].exception
        assert (tmp_path / f"{name}.duckdb").exists(), f"dbt did not open {name}.duckdb"
        # closed by the runner: a writer can open it at once
        duckdb.connect(str(tmp_path / f"{name}.duckdb")).close()
