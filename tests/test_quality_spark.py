"""The Great Expectations suites on Spark give the same verdicts as on DuckDB (D81-D83).

The rulebook landing (tests/support/rulebook_cases.py) goes through the real DuckDB pipeline once
(`rulebook_run`) and is built on Spark (orchestration/spark_target.py); a Spark Thrift server
serves that build. Every suite of every stage then runs on both engines from the same
declarations (`all_suites(rule_vars, engine=...)`): on DuckDB with `run_suite` on a copy of the
warehouse whose check scopes are forgotten (every row validated, as on Spark, D83), on Spark
with `run_suite_on_spark` through the Thrift server. Check by check, the verdict and the count
of unexpected rows must be equal. Then the same two breaches are planted on both engines: a
quarantine row the load log does not know of, and staging days in UTC instead of Beijing (R1).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from support import rulebook_cases
from support.thrift_server import thrift_server

from expectations import all_suites
from orchestration.rule_vars import rule_var_defaults

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="no `java` on PATH: Spark needs a JVM (Java 17)"
    ),
]

_, _, QUARANTINE = rulebook_cases.build()
# quarantined by the models, not by the loader: counted in marts.quarantine, no warn check (Q7)
MODEL_REASONS = {
    "order_version_conflict",
    "video_not_found",
    "video_not_commerce",
    "video_of_other_account",
}

# Breach 1: a copy of the one orders row quarantined as non_positive_amount, unknown to the load
# log. Breach 2: stg_videos' published_day as the UTC date, which moves v-r6-bj-1 (published
# 2025-11-24T16:30Z = 00:30 on 25 Nov in Beijing) to 24 Nov; every other video of the rulebook is
# published between 08:00 and 24:00 Beijing time, where both dates agree.
QUARANTINE_COPY = (
    "insert into raw.orders_quarantine "
    "select * from raw.orders_quarantine where reason = 'non_positive_amount'"
)
UTC_DAY_VIEW = (
    "create or replace view staging.stg_videos as select video_id, account_id, is_commerce, "
    "published_at, deleted_at, {utc_day} as published_day, "
    "_source_file as source_file, _source_row as source_row from raw.videos"
)
UTC_DAY = {
    "duckdb": "cast(timezone('UTC', published_at) as date)",
    # whole days since the epoch: the UTC date, whatever the session's time zone
    "spark": "date_from_unix_date(cast(floor(unix_seconds(published_at) / 86400) as int))",
}
BREACHED = ("raw.orders_quarantine", "staging.stg_videos")


def _verdicts(outcomes_by_suite) -> dict[tuple[str, str], tuple[bool, int]]:
    return {
        (name, o.check.name): (o.passed, o.unexpected)
        for name, outcomes in outcomes_by_suite.items()
        for o in outcomes
    }


def _on_duckdb(warehouse: Path, quality_dir: Path, names=None):
    from orchestration.defs.quality.validation import run_suite
    from orchestration.defs.resources import WarehouseResource

    resource = WarehouseResource(path=str(warehouse))
    return _verdicts(
        {
            s.name: run_suite(s, resource, quality_dir)
            for s in all_suites(rule_var_defaults(), engine="duckdb")
            if names is None or s.name in names
        }
    )


def _on_spark(server, quality_dir: Path, names=None):
    from orchestration.defs.quality.spark_validation import ThriftServer, run_suite_on_spark

    thrift = ThriftServer(*server)
    return _verdicts(
        {
            s.name: run_suite_on_spark(s, thrift, quality_dir)
            for s in all_suites(rule_var_defaults(), engine="spark")
            if names is None or s.name in names
        }
    )


@pytest.fixture(scope="module")
def verdicts(rulebook_run, tmp_path_factory):
    """Every check's (passed, unexpected) on each engine, clean and after the two breaches."""
    from orchestration.spark_target import build_and_read

    root = tmp_path_factory.mktemp("quality_spark")
    spark_dir = root / "spark"
    build_and_read(rulebook_run["warehouse"], spark_dir, tables=())

    warehouse = root / "warehouse.duckdb"
    shutil.copy(rulebook_run["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from quality.checked_through")  # every row in scope (D30, D83)
    out = {"duckdb": _on_duckdb(warehouse, root / "duckdb.gx")}
    with duckdb.connect(str(warehouse)) as con:
        con.execute(QUARANTINE_COPY)
        con.execute(UTC_DAY_VIEW.format(utc_day=UTC_DAY["duckdb"]))
        # the clean run recorded its passes: forget them again, as after the load that would
        # have brought the breach (D30); Spark records none (D83)
        con.execute("delete from quality.checked_through")
    out["duckdb_breached"] = _on_duckdb(warehouse, root / "duckdb.gx", BREACHED)

    timezone = str(rule_var_defaults()["timezone"])
    with thrift_server(spark_dir, timezone) as server:
        out["spark"] = _on_spark(server, root / "spark.gx")
        from pyhive import hive

        con = hive.connect(host=server[0], port=server[1], username="rewards")
        try:
            cursor = con.cursor()
            cursor.execute(QUARANTINE_COPY)  # DDL and inserts: nothing to fetch (PyHive#388)
            cursor.execute(UTC_DAY_VIEW.format(utc_day=UTC_DAY["spark"]))
        finally:
            con.close()
        out["spark_breached"] = _on_spark(server, root / "spark.gx", BREACHED)
    return out


def test_every_check_runs_on_spark_with_duckdbs_verdict_and_count(verdicts):
    every = {
        (s.name, c.name) for s in all_suites(rule_var_defaults(), engine="spark") for c in s.checks
    }
    assert set(verdicts["spark"]) == set(verdicts["duckdb"]) == every
    different = {
        key: (verdicts["duckdb"][key], verdicts["spark"][key])
        for key in every
        if verdicts["duckdb"][key] != verdicts["spark"][key]
    }
    assert different == {}


def test_rulebook_passes_every_blocking_check_and_warns_its_quarantine_on_spark(verdicts):
    blocking = {
        (s.name, c.name)
        for s in all_suites(rule_var_defaults(), engine="spark")
        for c in s.checks
        if c.blocking
    }
    failed = {key: count for key, (passed, count) in verdicts["spark"].items() if not passed}
    assert not blocking & set(failed)
    # the warn checks count the loader's quarantine, reason by reason, as the rulebook expects
    by_reason = Counter()
    for (_, check_name), count in failed.items():
        by_reason[check_name.removeprefix("quarantined_")] += count
    assert dict(by_reason) == {r: n for r, n in QUARANTINE.items() if r not in MODEL_REASONS}


def test_a_quarantine_row_the_load_log_does_not_know_blocks_on_both_engines(verdicts):
    for engine in ("duckdb", "spark"):
        breached = verdicts[f"{engine}_breached"]
        # the load log says 11 quarantined orders rows, the table now holds 12: one log row
        assert breached[("raw.orders_quarantine", "rows_match_load_log")] == (False, 1), engine
        # 1 non-positive amount in the rulebook (rulebook_cases: QUARANTINE), now 2
        assert breached[("raw.orders_quarantine", "quarantined_non_positive_amount")] == (
            False,
            2,
        ), engine
    assert verdicts["duckdb_breached"] == verdicts["spark_breached"]


def test_utc_days_in_staging_fail_the_r1_check_on_both_engines(verdicts):
    for engine in ("duckdb", "spark"):
        breached = verdicts[f"{engine}_breached"]
        assert breached[("staging.stg_videos", "published_day_is_beijing_date")] == (False, 1), (
            engine
        )
        # the other checks of the suite still pass: the view keeps every row
        assert breached[("staging.stg_videos", "rows_preserved")] == (True, 0)
