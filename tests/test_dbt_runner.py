"""The dbt runner (orchestration/dbt_runner): the one place dbt runs, and its hooks into dbt-core,
dbt-duckdb and dagster-dbt internals. If an upgrade renames or reshapes what it hooks, these tests
say what moved instead of a run failing somewhere inside dbt or dagster-dbt."""

from __future__ import annotations

import os
import threading

import duckdb

from orchestration.dbt_runner import _read_environment, invoke, warehouse_env

SEE = "see orchestration/dbt_runner and pin the old versions until it is adapted"


def test_dbt_core_and_dbt_duckdb_still_have_what_the_runner_hooks():
    from orchestration.dbt_runner import hooked_api_problems

    assert hooked_api_problems() == [], SEE


def test_dagster_dbt_still_has_what_the_bridge_hooks():
    from orchestration.dbt_runner.dagster_bridge import hooked_api_problems

    assert hooked_api_problems() == [], SEE


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
