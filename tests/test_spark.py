"""The dbt models on Apache Spark (docs/spark.md) give the same marts.account_rewards as DuckDB.

The rulebook landing (tests/support/rulebook_cases.py) goes through the real DuckDB pipeline once
(`rulebook_run`); its raw schema is exported to Parquet and `dbt build --target spark` builds
every model on a local PySpark, with every data test, the R12 reconciliation test and dbt's unit
tests (R2, R6, R7, R11) running on Spark. The Spark table is then compared with DuckDB's row for
row and column for column, and with the hand-computed answers of rulebook_cases.py on its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from support import rulebook_cases
from support.pipeline import assert_matches_hand_computation, query

from orchestration.settings import DBT_PROJECT_DIR

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="no `java` on PATH: Spark needs a JVM (Java 17)"
    ),
]

_, EXPECTED, QUARANTINE = rulebook_cases.build()

COLUMNS = rulebook_cases.REWARD_COLUMNS
MONEY = {"baseline_period_gmv", "baseline_gmv", "window_gmv", "over_quota_gmv", "reward_base"}
POINTS = {"reward_points"}
WHOLE_POINTS = {"reward_points_uncapped"}  # decimal(38,0): more points than a bigint holds (D59)
FLAGS = {"is_eligible", "is_new_entrant", "is_capped"}


@pytest.fixture(scope="module")
def spark(rulebook_run, tmp_path_factory):
    """Build on Spark from the rulebook warehouse (in a process of its own, which ends with its
    Spark session and JVM); read what the tests need."""
    from orchestration.spark_target import build_and_read

    spark_dir = tmp_path_factory.mktemp("spark")
    built = build_and_read(
        rulebook_run["warehouse"],
        spark_dir,
        unit_tests=True,
        tables=("marts.account_rewards", "marts.reconciliation", "marts.quarantine"),
        schemas=("marts.account_rewards", "raw.orders", "raw.orders_quarantine"),
    )
    tables, schemas = built["tables"], built["schemas"]
    out = {
        "dir": spark_dir,
        "exported": built["exported"],
        "rewards": tables["marts.account_rewards"],
        "schema": schemas["marts.account_rewards"],
        "raw_orders_schema": schemas["raw.orders"],
        "raw_quarantine_schema": schemas["raw.orders_quarantine"],
        "reconciliation": tables["marts.reconciliation"],
        "quarantine": tables["marts.quarantine"],
    }
    return out


def _instant(value: datetime) -> datetime:
    """PySpark gives a naive local-time datetime, DuckDB an aware one: both as UTC instants."""
    return value.astimezone(UTC)


def _normalized(row: dict) -> dict:
    """Column values with their Python types checked: Decimal money, int points, bool flags."""
    out = {}
    for column in COLUMNS:
        value = row[column]
        if column in MONEY:
            assert type(value) is Decimal, (row["account_id"], column, value)
            assert value.as_tuple().exponent == -2, (row["account_id"], column, value)
        elif column in POINTS:
            assert type(value) is int, (row["account_id"], column, value)
        elif column in WHOLE_POINTS:
            assert type(value) is Decimal, (row["account_id"], column, value)
            assert value.as_tuple().exponent == 0, (row["account_id"], column, value)
        elif column in FLAGS:
            assert type(value) is bool, (row["account_id"], column, value)
        elif column == "enrolled_at":
            value = _instant(value)
        out[column] = value
    return out


@pytest.fixture(scope="module")
def spark_rewards(spark) -> dict[str, dict]:
    return {r["account_id"]: _normalized(r) for r in spark["rewards"]}


@pytest.fixture(scope="module")
def duckdb_rewards(rulebook_run) -> dict[str, dict]:
    rows = query(
        rulebook_run["warehouse"], f"select {', '.join(COLUMNS)} from marts.account_rewards"
    )
    return {r[0]: _normalized(dict(zip(COLUMNS, r, strict=True))) for r in rows}


def test_raw_export_keeps_instants_decimals_and_text(spark, rulebook_run):
    # every raw table (quarantines and load_log too), every row
    tables = query(
        rulebook_run["warehouse"],
        "select table_name from information_schema.tables where table_schema = 'raw'",
    )
    assert set(spark["exported"]) == {t[0] for t in tables}
    for table, n in spark["exported"].items():
        assert query(rulebook_run["warehouse"], f"select count(*) from raw.{table}")[0][0] == n
    orders = dict(spark["raw_orders_schema"])
    assert orders["amount"] == orders["refunded_amount"] == "decimal(18,2)"  # never a float
    assert orders["updated_at"] == orders["created_at"] == orders["settled_at"] == "timestamp"
    assert dict(spark["raw_quarantine_schema"])["record"] == "string"


def test_account_rewards_types_on_spark(spark):
    # the rulebook's types (docs/rules.md) in Spark's names; the contract was enforced on Spark
    assert spark["schema"] == [
        ("account_id", "string"),
        ("account_type", "string"),
        ("enrolled_at", "timestamp"),
        ("is_eligible", "boolean"),
        ("ineligible_reason", "string"),
        ("is_new_entrant", "boolean"),
        ("baseline_period_gmv", "decimal(38,2)"),
        ("baseline_gmv", "decimal(38,2)"),
        ("window_gmv", "decimal(38,2)"),
        ("over_quota_gmv", "decimal(38,2)"),
        ("reward_base", "decimal(38,2)"),
        ("reward_points_uncapped", "decimal(38,0)"),
        ("reward_points", "bigint"),
        ("is_capped", "boolean"),
    ]


def test_spark_account_rewards_equal_duckdb_row_for_row(spark_rewards, duckdb_rewards):
    assert sorted(spark_rewards) == sorted(duckdb_rewards)
    for account, expected in sorted(duckdb_rewards.items()):
        assert spark_rewards[account] == expected, account


@pytest.mark.parametrize("account", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_spark_matches_hand_computation(spark_rewards, account):
    # R1-R12 on Spark on their own, not only "same as DuckDB"
    assert_matches_hand_computation(spark_rewards, account, EXPECTED[account])


def test_r12_reconciliation_and_quarantine_on_spark(spark, rulebook_run):
    duck = query(
        rulebook_run["warehouse"],
        "select identity, left_side, right_side, difference, is_balanced "
        "from marts.reconciliation order by identity",
    )
    ours = sorted(
        (r["identity"], r["left_side"], r["right_side"], r["difference"], r["is_balanced"])
        for r in spark["reconciliation"]
    )
    assert ours == duck and all(r[4] for r in ours)
    by_reason: dict[str, int] = {}
    for row in spark["quarantine"]:
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + 1
        assert json.loads(row["record"])  # JSON text, every value kept (nulls too)
    assert by_reason == QUARANTINE
    conflict = [
        json.loads(r["record"])
        for r in spark["quarantine"]
        if r["reason"] == "order_version_conflict"
    ]
    assert sorted(r["status"] for r in conflict) == ["refunded", "settled"]
    assert {"settled_at": None}.items() <= min(conflict, key=lambda r: r["status"]).items()


def test_every_dbt_test_ran_and_passed_on_spark(spark):
    results = json.loads((spark["dir"] / "dbt" / "target" / "run_results.json").read_text())
    status = {r["unique_id"]: r["status"] for r in results["results"]}
    for singular in ("reconciliation_closes", "order_lines_add_up", "accrual_closes"):
        assert status[f"test.short_video_rewards.assert_{singular}"] == "pass"
    # R2, R6, R7/R11, R7/R11 up to decimal(38,2) (D59), R11, and R11 day by day (the accrual)
    assert sum(uid.startswith("unit_test.") for uid in status) == 6
    assert sum(uid.startswith("test.") for uid in status) > 50
    checks = ("test.", "unit_test.")
    assert {s for uid, s in status.items() if uid.startswith(checks)} == {"pass"}
    assert {s for uid, s in status.items() if not uid.startswith(checks)} == {"success"}
    models = list((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) >= 20  # staging 4, intermediate 11, marts 8
    assert sum(uid.startswith("model.") for uid in status) == len(models)  # every one built


def test_cli_spark_names_a_missing_warehouse(tmp_path):
    rewards = str(Path(sys.executable).parent / "rewards")
    done = subprocess.run(
        [
            rewards,
            "spark",
            "--warehouse",
            str(tmp_path / "none.duckdb"),
            "--spark-dir",
            str(tmp_path / "spark"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "warehouse not found" in done.stderr and "none.duckdb" in done.stderr
