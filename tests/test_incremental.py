"""Daily incremental runs (docs/decisions.md, D16): a new day's orders file is appended to the
raw change log and only the orders it touches are recomputed, with the rewards a full build
gives. Hand-computed; the rule parameters are the defaults (R7: 40 window days / 92 baseline
days; R11: rate 0.015).

The first two days are built by the loader and dbt in this process (tests/support/dbt_build.py: what
the pipeline's steps run, without Dagster's start-up); the third, a changed landed file, goes
through the whole pipeline, whose intermediate step must choose the full refresh itself."""

from __future__ import annotations

import shutil

import duckdb
from support.dbt_build import build
from support.landing_builder import Landing, noon
from support.pipeline import query, run_pipeline_on

from orchestration.defs.warehouse.incremental import full_refresh_reason
from orchestration.rule_vars import rule_var_defaults

ACCOUNT = "inc"


def _landing(baseline_amount: str = "9200.00") -> Landing:
    land = Landing()
    land.account(ACCOUNT)  # merchant, 5,000 followers, video v-inc published 2025-07-15
    # day 1: C in the baseline, A paid in the window, B settled in the window
    land.sale(ACCOUNT, "2025-09-10", baseline_amount, order_id="C", file="orders_1.csv")
    land.sale(ACCOUNT, "2025-11-25", "10000.00", status="paid", order_id="A", file="orders_1.csv")
    land.sale(ACCOUNT, "2025-11-26", "5000.00", order_id="B", file="orders_1.csv")
    # day 2: A settles with a 1,000.00 refund, B is refunded in full, D is new and settled
    base = dict(account_id=ACCOUNT, channel="short_video", video_id=f"v-{ACCOUNT}")
    land.row(
        "orders",
        "orders_2.csv",
        order_id="A",
        updated_at=noon("2025-12-01"),
        created_at=noon("2025-11-25"),
        amount="10000.00",
        refunded_amount="1000.00",
        status="settled",
        settled_at=noon("2025-12-01"),
        **base,
    )
    land.row(
        "orders",
        "orders_2.csv",
        order_id="B",
        updated_at=noon("2025-12-02"),
        created_at=noon("2025-11-26"),
        amount="5000.00",
        refunded_amount="5000.00",
        status="refunded",
        settled_at=noon("2025-11-29"),
        **base,
    )
    land.sale(ACCOUNT, "2025-12-02", "300.00", order_id="D", file="orders_2.csv")
    return land


def _reward(warehouse) -> tuple:
    return query(
        warehouse,
        "select baseline_gmv, window_gmv, reward_base, reward_points "
        "from marts.account_rewards where account_id = ?",
        [ACCOUNT],
    )[0]


def _loaded_through(warehouse) -> dict[str, int]:
    return dict(
        query(warehouse, "select order_id, loaded_through from intermediate.int_orders_current")
    )


def test_a_new_day_is_appended_and_only_its_orders_are_recomputed(tmp_path):
    landing = _landing().write(tmp_path / "landing")
    day2 = landing / "orders" / "orders_2.csv"
    shutil.move(day2, tmp_path / "orders_2.csv")
    warehouse = tmp_path / "warehouse.duckdb"

    assert build(landing, warehouse) is None  # the first build
    # window: B 5,000.00 settled (A only paid); baseline 9,200.00 × 40/92 = 4,000.00
    # base 1,000.00 → floor(15.000) = 15 points
    assert [str(v) for v in _reward(warehouse)] == ["4000.00", "5000.00", "1000.00", "15"]
    first = _loaded_through(warehouse)
    assert set(first) == {"A", "B", "C"}

    shutil.move(tmp_path / "orders_2.csv", day2)
    assert build(landing, warehouse) is None  # incremental: no full refresh
    # window: A 10,000.00 − 1,000.00 refunded = 9,000.00, B refunded (not settled) 0,
    # D 300.00 → 9,300.00; base 9,300.00 − 4,000.00 = 5,300.00 → floor(79.5) = 79 points
    assert [str(v) for v in _reward(warehouse)] == ["4000.00", "9300.00", "5300.00", "79"]
    assert query(warehouse, "select mode, files from raw.load_log where dataset = 'orders'") == [
        ("append", 2)
    ]
    second = _loaded_through(warehouse)
    # C had no new version: its row was left as the first build wrote it; A, B and D are new
    assert second["C"] == first["C"]
    assert {second[o] for o in "ABD"} == {max(second.values())} and second["A"] > first["A"]
    # the same raw orders, recomputed from scratch, give the same current state
    assert query(
        warehouse,
        "select status, amount, refunded_amount from "
        "intermediate.int_orders_current order by order_id",
    ) == query(
        warehouse,
        "select status, amount, refunded_amount from raw.orders "
        "qualify row_number() over (partition by order_id order by updated_at desc)"
        " = 1 order by order_id",
    )

    # A run with another timezone var must not mix Beijing and other days (R1)
    defaults = rule_var_defaults()
    utc = full_refresh_reason(warehouse, {**defaults, "timezone": "UTC"})
    assert "this run's timezone var is UTC" in utc
    assert full_refresh_reason(warehouse, defaults) is None

    # Tables built before sums of money were decimal(38,2) (D59) rebuild in full (D60): an
    # incremental build would insert into their decimal(18,2) columns
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "alter table intermediate.int_account_daily_gmv alter window_gmv type decimal(18, 2)"
        )
    assert full_refresh_reason(warehouse, defaults) == (
        "intermediate.int_account_daily_gmv.window_gmv is DECIMAL(18,2), built before sums of "
        "money were DECIMAL(38,2)"
    )

    # A landed file changes (C's amount corrected): the orders reload in full, and the order
    # models rebuild in full. Baseline 920.00 × 40/92 = 400.00; base 8,900.00 → 133 points.
    shutil.rmtree(landing)
    _landing(baseline_amount="920.00").write(landing)
    run_pipeline_on(landing, warehouse)
    assert [str(v) for v in _reward(warehouse)] == ["400.00", "9300.00", "8900.00", "133"]
    assert query(warehouse, "select mode from raw.load_log where dataset = 'orders'") == [("full",)]
    third = _loaded_through(warehouse)
    assert len(set(third.values())) == 1 and third["C"] > second["C"]
    assert query(
        warehouse,
        "select data_type from duckdb_columns() where schema_name = 'intermediate' "
        "and table_name = 'int_account_daily_gmv' and column_name = 'window_gmv'",
    ) == [("DECIMAL(38,2)",)]
