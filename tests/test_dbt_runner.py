"""The dbt runner (orchestration/dbt_runner): dbt-core's programmatic API handed a profile written
for one warehouse, and the warehouse released when dbt is done."""

from __future__ import annotations

import os
import threading

import duckdb

from orchestration.dbt_runner import dbt_target_dir, invoke_on_warehouse, warehouse_env


def test_each_invocation_builds_the_warehouse_it_is_handed_and_releases_it(tmp_path):
    """Two `dbt show`s, one in a worker thread (as the Dagster step runs dbt), one here, each
    handed its own warehouse: each opens (and so creates) its own file, because its profile is
    written for it; neither writes `os.environ`; both files are closed again afterwards, so a
    writer with another configuration opens them at once (the profile's `keep_open: false`)."""
    before = dict(os.environ)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        warehouse = tmp_path / f"{name}.duckdb"
        env = warehouse_env(warehouse, "1GB", 1, tmp_path / f"{name}.tmp")
        results[name] = invoke_on_warehouse(
            ["show", "--inline", "select 1 as one"], env, dbt_target_dir(warehouse)
        )

    worker = threading.Thread(target=run, args=("first",))
    worker.start()
    worker.join()
    run("second")
    assert dict(os.environ) == before
    for name in ("first", "second"):
        assert results[name].success, results[name].exception
        assert (tmp_path / f"{name}.duckdb").exists(), f"dbt did not open {name}.duckdb"
        profile = (tmp_path / f"{name}.dbt" / "profile" / "profiles.yml").read_text()
        assert str(tmp_path / f"{name}.duckdb") in profile
        duckdb.connect(str(tmp_path / f"{name}.duckdb"), config={"threads": 1}).close()
        duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True).close()
