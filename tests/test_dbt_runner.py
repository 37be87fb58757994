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


def _show(warehouse, sql: str, dbt_vars: str | None = None) -> list[tuple]:
    env = warehouse_env(warehouse, "1GB", 1, warehouse.with_suffix(".tmp"))
    result = invoke_on_warehouse(
        ["show", "--inline", sql, "--quiet"], env, dbt_target_dir(warehouse), dbt_vars=dbt_vars
    )
    assert result.success, result.exception
    return [tuple(row) for row in result.result.results[0].agate_table.rows]


def test_a_parse_is_reused_for_the_same_rendering_and_builds_the_warehouse_it_is_handed(tmp_path):
    """The second build in a process with the same target, database name and vars reuses the
    first one's manifest (it writes no partial-parse state of its own) and still reads its own
    warehouse (only `b` holds the marker table); other vars (R11's reward_rate) or another
    database name parse again, and the vars reach the SQL."""
    a = tmp_path / "a" / "warehouse.duckdb"
    b = tmp_path / "b" / "warehouse.duckdb"
    other = tmp_path / "c" / "parse_probe.duckdb"  # a database name no other test builds
    for warehouse in (a, b, other):
        warehouse.parent.mkdir()
    con = duckdb.connect(str(b))
    con.execute("create table marker (x int)")
    con.close()
    sql = (
        "select (select count(*) from information_schema.tables where table_name = 'marker')"
        " as marked, '{{ var(\"reward_rate\") }}' as rate, current_database() as db"
    )

    def parsed(warehouse) -> bool:
        return (dbt_target_dir(warehouse) / "partial_parse.msgpack").exists()

    # the first build in this process for its rendering may reuse an earlier test's parse
    assert _show(a, sql) == [(0, "0.015", "warehouse")]
    assert _show(b, sql) == [(1, "0.015", "warehouse")]
    assert not parsed(b)
    # a value no other test sets, so no earlier parse of this process has it
    assert _show(b, sql, dbt_vars='{"reward_rate": "0.0123"}') == [(1, "0.0123", "warehouse")]
    assert parsed(b)
    assert _show(other, sql) == [(0, "0.015", "parse_probe")]
    assert parsed(other)
