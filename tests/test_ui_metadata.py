"""What the Dagster UI shows on each materialization (orchestration/defs/warehouse/metadata.py,
orchestration/defs/landing/assets.py), checked against a small landing computed by hand and
against the tables the run built."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dagster import AssetKey
from support.landing_builder import Landing, noon
from support.pipeline import execute_selection, query

D = Decimal


def build_landing() -> Landing:
    """Three enrolled accounts, every number below worked out by hand from the default vars
    (window 2025-11-22 .. 12-31 = 40 days, baseline 08-01 .. 10-31 = 92 days, 1.5 %, cap
    150,000), plus one quarantined row of each of three kinds."""
    land = Landing()
    # capped new entrant: base 20,000,000.00 -> 300,000 points uncapped -> 150,000
    land.account("m-big")
    land.sale("m-big", "2025-11-22", "20000000.00")
    # baseline 9,200.00 * 40 / 92 = 4,000.00; window 5,000.00 + (3,000.00 - 500.00) + an
    # unsettled 700.00 (counted, 0 GMV) = 7,500.00; base 3,500.00 -> 52.5 -> 52 points
    land.account("m-mid")
    land.sale("m-mid", "2025-09-10", "9200.00")
    land.sale("m-mid", "2025-11-22", "5000.00")
    land.sale("m-mid", "2025-11-30", "3000.00", refunded="500.00")
    land.sale("m-mid", "2025-11-30", "700.00", status="paid")
    # below the follower threshold: ineligible, base 1,000.00, 0 points
    land.account("p-low", type="promoter", followers=500)
    land.sale("p-low", "2025-11-25", "1000.00")
    # quarantine: R4 (unknown video), R12 on orders (the settled version refunds more than the
    # amount: the paid version, created outside both periods, stays) and R12 on videos
    land.sale("m-mid", "2025-11-23", "400.00", video="v-unknown")
    land.sale("m-mid", "2025-07-20", "100.00", refunded="900.00")
    land.video("v-bad", "m-mid", noon("2025-07-15"), deleted=noon("2025-07-01"))
    return land


EXPECTED_DAYS = [
    ("2025-11-22", "2", "20005000.00"),
    ("2025-11-25", "1", "1000.00"),
    ("2025-11-30", "2", "2500.00"),
]
EXPECTED_QUARANTINE = {
    "video_not_found": 1,
    "refund_out_of_range": 1,
    "deleted_before_published": 1,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui_metadata")
    landing = build_landing().write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    result = execute_selection(landing, warehouse)
    assert result.success
    materialized = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        materialized[mat.asset_key.to_user_string()] = {
            name: value.value for name, value in mat.metadata.items()
        }
    return {"metadata": materialized, "warehouse": warehouse}


def md_rows(markdown: str) -> list[list[str]]:
    """The body rows of a markdown table, as cells."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def _figures(metadata: dict) -> dict:
    """The figures among program_summary's metadata: keyed by label, not by `dagster/...`,
    `dbt/...` or the table."""
    return {k: v for k, v in metadata.items() if "/" not in k and k != "program_summary"}


def test_program_summary_carries_the_hand_computed_figures(run):
    """The programme's figures are program_summary's (D61), keyed by their labels, which name
    the population: the money totals are eligible accounts' (p-low's 1,000.00 is only in the
    window GMV of all enrolled accounts)."""
    meta = run["metadata"]["marts/program_summary"]
    figures = _figures(meta)
    assert figures == {
        "all enrolled accounts": 3,
        "eligible accounts": 2,
        "ineligible accounts: below_follower_threshold (R10)": 1,
        "rewarded accounts (eligible accounts with points)": 2,
        "capped accounts (eligible accounts)": 1,
        "new entrants (eligible accounts)": 1,  # m-big
        "reward points (eligible accounts)": 150_000 + 52,
        "reward points before the cap (eligible accounts)": 300_000 + 52,
        "reward points of new entrants (eligible accounts)": 150_000,
        # money: exact text, never a float
        "reward base (eligible accounts)": "20003500.00",
        "window GMV (eligible accounts)": "20007500.00",
        "window GMV (all enrolled accounts)": "20008500.00",
        "baseline GMV (eligible accounts)": "4000.00",
        "over-quota GMV (eligible accounts)": "0.00",
        "quarantined rows (all datasets)": 3,
        "quarantined rows: orders: refund_out_of_range (R12)": 1,
        "quarantined rows: orders: video_not_found (R4)": 1,
        "quarantined rows: videos: deleted_before_published (R12)": 1,
    }
    assert isinstance(figures["reward points (eligible accounts)"], int)
    assert ["reward base (eligible accounts)", "20,003,500.00", "CNY"] in md_rows(
        meta["program_summary"]
    )
    assert ["capped accounts (eligible accounts)", "1", "account"] in md_rows(
        meta["program_summary"]
    )


def test_account_rewards_top_accounts_table(run):
    rows = md_rows(run["metadata"]["marts/account_rewards"]["top_accounts_by_points"])
    assert rows == [
        ["m-big", "merchant", "20000000.00", "0.00", "20000000.00", "150000", "true"],
        ["m-mid", "merchant", "7500.00", "4000.00", "3500.00", "52", "false"],
        ["p-low", "promoter", "1000.00", "0.00", "1000.00", "0", "false"],
    ]


def test_the_figures_equal_the_built_tables(run):
    meta = run["metadata"]["marts/program_summary"]
    built = dict(query(run["warehouse"], "select label, value from marts.program_summary"))
    shown = {k: D(v) for k, v in _figures(meta).items()}
    assert shown == built  # Decimals, compared by value
    points, base, accounts = query(
        run["warehouse"],
        "select sum(reward_points), sum(reward_base) filter (where is_eligible), count(*) "
        "from marts.account_rewards",
    )[0]
    assert (
        meta["reward points (eligible accounts)"],
        D(meta["reward base (eligible accounts)"]),
        meta["all enrolled accounts"],
    ) == (points, base, accounts)


def test_daily_window_gmv(run):
    meta = run["metadata"]["intermediate/int_short_video_orders"]
    assert md_rows(meta["daily_window_gmv"]) == [list(day) for day in EXPECTED_DAYS]
    assert meta["window_counted_orders"] == 5
    assert meta["window_counted_settled_gmv"] == "20008500.00"
    # counted window GMV of every account = Σ window_gmv of the enrolled ones (all enrolled here)
    (window,) = query(run["warehouse"], "select sum(window_gmv) from marts.account_rewards")[0]
    assert D(meta["window_counted_settled_gmv"]) == window


def test_quarantine_by_reason(run):
    meta = run["metadata"]["marts/quarantine"]
    assert meta["dagster/row_count"] == 3
    assert {
        k.removeprefix("quarantined/"): v for k, v in meta.items() if k.startswith("quarantined/")
    } == EXPECTED_QUARANTINE
    rows = {(r[0], r[1], r[2]): int(r[3]) for r in md_rows(meta["quarantine_by_reason"])}
    assert rows == {
        ("R4", "video_not_found", "orders"): 1,
        ("R12", "refund_out_of_range", "orders"): 1,
        ("R12", "deleted_before_published", "videos"): 1,
    }


def test_every_dbt_model_reports_its_row_count(run):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    models = [
        k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "intermediate", "marts")
    ]
    assert len(models) >= 13
    for key in models:
        name = key.to_user_string()
        assert name in run["metadata"], f"{name} was not materialized"
        (rows,) = query(run["warehouse"], f"select count(*) from {'.'.join(key.path)}")[0]
        assert run["metadata"][name]["dagster/row_count"] == rows, name


def test_landing_assets_report_rows_loaded_and_quarantined_by_reason(run):
    orders = run["metadata"]["raw/orders"]
    (rows,) = query(run["warehouse"], "select count(*) from raw.orders")[0]
    # 2 rows per sale (paid, then final) except the unsettled one, less the quarantined row
    assert orders["dagster/row_count"] == rows == 2 * 8 - 1 - 1
    assert orders["rows_quarantined"] == 1
    assert orders["quarantined/refund_out_of_range"] == 1
    videos = run["metadata"]["raw/videos"]
    assert videos["dagster/row_count"] == 3  # v-m-big, v-m-mid, v-p-low
    assert videos["quarantined/deleted_before_published"] == 1
    assert "deleted_before_published | 1" in videos["quarantine_by_reason"]


def test_descriptions_come_from_the_dbt_yaml_and_groups_are_stages():
    from orchestration.definitions import defs

    key = AssetKey(["marts", "account_rewards"])
    description = defs.resolve_assets_def(key).descriptions_by_key[key]
    assert description.startswith("What finance pays: one row per enrolled account")
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        stage = {"raw": "landing"}.get(key.path[0], key.path[0])
        if stage in ("landing", "staging", "intermediate", "marts"):
            assert graph.get(key).group_name == stage, key


def test_a_failed_dbt_build_still_reports_what_it_built_then_fails(run):
    """dbt's events are held until it has released the warehouse; if it failed, what it built
    is still reported, with its metadata, and then the failure is raised."""
    import logging
    from types import SimpleNamespace

    from dagster import AssetMaterialization

    from orchestration.defs.resources import WarehouseResource
    from orchestration.defs.warehouse.metadata import with_warehouse_metadata

    def dbt_events():
        yield AssetMaterialization(asset_key=["marts", "account_rewards"])
        yield AssetMaterialization(asset_key=["marts", "not_a_table"])
        raise RuntimeError("dbt failed")

    context = SimpleNamespace(log=logging.getLogger("test"))
    warehouse = WarehouseResource(path=str(run["warehouse"]))
    seen = []
    with pytest.raises(RuntimeError, match="dbt failed"):
        for event in with_warehouse_metadata(context, dbt_events(), warehouse):
            seen.append(event)
    assert [e.asset_key.to_user_string() for e in seen] == [
        "marts/account_rewards",
        "marts/not_a_table",
    ]
    assert "| m-big | merchant |" in seen[0].metadata["top_accounts_by_points"].value
    assert seen[1].metadata == {}  # its query failed: no metadata, the build is not failed
