"""marts.reward_accrual, the liability day by day, on the finance landing's two real pipeline
runs (hand computation in tests/support/finance_cases.py): points to date and the projection
for several days, the latest day equal to the programme, the UI's metadata, and the blocking
check that keeps an accrual that does not close out of the serving copy."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import duckdb
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, DagsterEventType
from support.pipeline import execute_selection, query

from orchestration.instance import open_instance

D = Decimal
COLUMNS = "accrual_date, days_elapsed, window_gmv_to_date, points_to_date, projected_points, "
COLUMNS += "accounts_earning"


def _accrual(serving) -> dict[date, tuple]:
    rows = query(serving, f"select {COLUMNS} from marts.reward_accrual order by 1")
    return {row[0]: row[1:] for row in rows}


def test_day_2_accrual_by_hand(finance_runs):
    accrual = _accrual(finance_runs["day2_serving"])
    # one row per window day from 2025-11-22 to 2025-12-20, the last day with a counted order
    assert list(accrual) == [date(2025, 11, 22 + n) for n in range(9)] + [
        date(2025, 12, n) for n in range(1, 21)
    ]
    assert accrual[date(2025, 11, 22)] == (1, D("0.00"), 0, 0, 0)
    assert accrual[date(2025, 11, 30)] == (9, D("0.00"), 0, 0, 0)
    assert accrual[date(2025, 12, 1)] == (10, D("600.00"), 9, 36, 1)
    assert accrual[date(2025, 12, 5)] == (14, D("2600.00"), 33, 104, 2)
    assert accrual[date(2025, 12, 6)] == (15, D("3100.00"), 33, 97, 2)
    assert accrual[date(2025, 12, 20)] == (29, D("4100.00"), 48, 68, 2)


def test_the_latest_day_equals_the_programme(finance_runs):
    for day in (1, 2):
        serving = finance_runs[f"day{day}_serving"]
        (points, gmv) = query(
            serving, "select sum(reward_points), sum(window_gmv) from marts.account_rewards"
        )[0]
        latest = list(_accrual(serving).values())[-1]
        assert (latest[2], latest[1]) == (points, gmv)


def test_day_1_accrual_ends_on_its_last_counted_order(finance_runs):
    accrual = _accrual(finance_runs["day1_serving"])
    assert max(accrual) == date(2025, 12, 6)
    # fin_a 1,000.00 before the refund: 15 points, projected 4,000.00 -> 60
    assert accrual[date(2025, 12, 1)] == (10, D("1000.00"), 15, 60, 1)
    # fin_a 1,000.00 x 40 / 14 = 2,857.14 -> 42; fin_b 5,714.29 -> 79
    assert accrual[date(2025, 12, 5)] == (14, D("3000.00"), 39, 121, 2)


def test_the_ui_shows_the_latest_days_figures(finance_runs):
    """The accrual's materialization in day 2's run carries its latest day's figures."""
    (run_id,) = query(finance_runs["day2_serving"], "select dagster_run_id from serving.build")[0]
    with open_instance(finance_runs["warehouse"].with_suffix(".dagster")) as instance:
        events = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    (metadata,) = [
        e.dagster_event.event_specific_data.materialization.metadata
        for e in events
        if e.dagster_event.asset_key == AssetKey(["marts", "reward_accrual"])
    ]
    values = {k: v.value for k, v in metadata.items()}
    assert {
        k: values[k]
        for k in (
            "accrual_date",
            "days_elapsed",
            "window_gmv_to_date",
            "points_to_date",
            "projected_points",
            "accounts_earning",
        )
    } == {
        "accrual_date": "2025-12-20",
        "days_elapsed": 29,
        "window_gmv_to_date": "4100.00",  # exact decimal text, never a float
        "points_to_date": 48,
        "projected_points": 68,
        "accounts_earning": 2,
    }
    assert "| 2025-12-05 | 14 | 2600.00 | 33 | 104 | 2 |" in values["accrual_by_day"]


def test_an_accrual_that_does_not_close_blocks_the_serving_copy(finance_runs, tmp_path):
    """A counted day the accounts' window GMV does not hold (seeded into the daily GMV the
    accrual sums) fails the accrual's blocking check in the marts build, and the run stops
    before the serving copy."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(finance_runs["day2_warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into intermediate.int_account_daily_gmv "
            "values ('fin_a', date '2025-12-25', 100.00, 1, 0)"
        )
    marts = [
        AssetKey(["marts", name])
        for name in ("account_rewards", "reward_accrual", "program_summary")
    ]
    result = execute_selection(
        finance_runs["landing"],
        warehouse,
        AssetSelection.assets(*marts, AssetKey(["serving", "finance_copy"])),
    )
    assert not result.success
    failed = [
        (e.asset_key.to_user_string(), e.check_name, e.severity)
        for e in (
            ev.event_specific_data
            for ev in result.all_events
            if ev.event_type_value == "ASSET_CHECK_EVALUATION"
        )
        if not e.passed
    ]
    assert failed == [("marts/reward_accrual", "assert_accrual_closes", AssetCheckSeverity.ERROR)]
    assert not (tmp_path / "warehouse.serving.duckdb").exists()
