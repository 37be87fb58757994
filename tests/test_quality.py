"""The quality gates (expectations/, orchestration/defs/quality) through the real pipeline.

A clean hand-built landing passes every check and yields hand-computed rewards. Then, on copies
of that warehouse, one defect at a time is seeded into one stage's table and the stage's checks
run with everything downstream: exactly the intended check fails, with ERROR severity, and no
downstream asset is materialized. Assertions read the Dagster run's events, not log text.
"""

from __future__ import annotations

import shutil
import urllib.parse
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, AssetSelection
from support.landing_builder import Landing
from support.pipeline import execute_selection, quarantine_warnings, query

from expectations import all_suites
from orchestration.contract import all_reasons
from orchestration.rule_vars import rule_var_defaults

# Hand-computed (R7: 920.00 × 40 / 92 = 400.00 baseline; R11: floor(600.00 × 0.015) = 9).
CLEAN_POINTS = {"qa_merchant": 9, "qa_promoter": 30, "qa_idle": 0}


def _clean_landing() -> Landing:
    land = Landing()
    land.account("qa_merchant")  # 5,000 followers: 2 commerce videos a day (R6)
    # published 07:30 Beijing = the previous day in UTC: its day must be the Beijing one (R1)
    land.video("v-qa_merchant-early", "qa_merchant", "2025-07-15T07:30:00+08:00")
    land.sale("qa_merchant", "2025-09-10", "920.00")  # baseline period
    land.sale("qa_merchant", "2025-12-01", "1000.00", video="v-qa_merchant-early")  # window
    land.sale("qa_merchant", "2025-12-02", "500.00", channel="live")  # not a short video
    land.account("qa_promoter", type="promoter", followers=20000)
    land.sale("qa_promoter", "2025-12-05", "2000.00")  # new entrant: base 2,000.00
    land.account("qa_idle")
    return land


def _evaluations(result):
    return [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _materialized(result) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def _failed(result) -> list[tuple[str, str, AssetCheckSeverity]]:
    return [
        (ev.asset_key.to_user_string(), ev.check_name, ev.severity)
        for ev in _evaluations(result)
        if not ev.passed
    ]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality_clean")
    landing = _clean_landing().write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    result = execute_selection(landing, warehouse)
    return {"landing": landing, "warehouse": warehouse, "result": result}


def test_clean_landing_passes_every_check(clean):
    result = clean["result"]
    assert result.success
    assert _failed(result) == []
    evaluated = {(ev.asset_key.to_user_string(), ev.check_name) for ev in _evaluations(result)}
    expected = {
        ("/".join(s.asset_key), c.name) for s in all_suites(rule_var_defaults()) for c in s.checks
    }
    assert expected <= evaluated  # every GX check ran (the rest are dbt tests)
    points = dict(
        query(clean["warehouse"], "select account_id, reward_points from marts.account_rewards")
    )
    assert points == CLEAN_POINTS


def test_check_metadata_carries_gx_counts_and_data_docs(clean):
    (ev,) = [
        ev
        for ev in _evaluations(clean["result"])
        if ev.asset_key == AssetKey(["marts", "account_rewards"])
        and ev.check_name == "points_within_cap"
    ]
    assert ev.metadata["severity"].value == "blocking (ERROR)"
    assert ev.metadata["rules"].value == "R11"
    assert ev.metadata["unexpected"].value == 0
    assert "expect_column_values_to_be_between" in ev.metadata["expectations"].value
    # a link to the suite's Data Docs page of this very run (its run name is the run id)
    page = Path(urllib.parse.urlparse(ev.metadata["data_docs"].url).path)
    assert page.suffix == ".html" and clean["result"].run_id in page.parts
    assert page.is_relative_to(clean["warehouse"].with_suffix(".gx") / "data_docs")
    html = page.read_text()
    assert "marts.account_rewards" in html and clean["result"].run_id in html


def _gx_checks_of(key: str) -> AssetSelection:
    """The Great Expectations checks on one asset (its dbt tests run inside its dbt build)."""
    return AssetSelection.checks(
        *[
            AssetCheckKey(AssetKey(list(suite.asset_key)), c.name)
            for suite in all_suites(rule_var_defaults())
            if "/".join(suite.asset_key) == key
            for c in suite.checks
        ]
    )


def _downstream_of(key: str) -> AssetSelection:
    return AssetSelection.assets(AssetKey(key.split("/"))).downstream(include_self=False)


# (guarded asset, SQL seeding one defect into its table, the one check that must fail)
DEFECTS = [
    pytest.param(
        "raw/orders",
        "update raw.orders set channel = 'tv' where channel = 'live'",
        "channel_accepted",
        id="raw-contract-breach-past-the-loader",
    ),
    pytest.param(
        "raw/videos",
        "delete from raw.videos where video_id = 'v-qa_idle'",
        "rows_match_load_log",
        id="raw-rows-lost-after-load",
    ),
    pytest.param(
        "staging/stg_orders",
        "create or replace view staging.stg_orders as select * exclude "
        "(_source_file, _source_row), _source_file as source_file, "
        "_source_row as source_row from raw.orders "
        "where _source_row <> (select min(_source_row) from raw.orders)",
        "rows_preserved",
        id="staging-loses-a-row",
    ),
    pytest.param(
        "staging/stg_videos",
        "create or replace view staging.stg_videos as select video_id, account_id, "
        "is_commerce, published_at, deleted_at, "
        "cast(timezone('UTC', published_at) as date) as published_day, "
        "_source_file as source_file, _source_row as source_row from raw.videos",
        "published_day_is_beijing_date",
        id="staging-utc-day",
    ),
    pytest.param(
        "intermediate/int_orders_current",
        "insert into intermediate.int_orders_current "
        "select * from intermediate.int_orders_current limit 1",
        "one_current_row_per_order",
        id="intermediate-two-current-rows",
    ),
    pytest.param(
        "intermediate/int_video_quota",
        "update intermediate.int_video_quota set is_over_quota = not is_over_quota "
        "where video_id = 'v-qa_promoter'",
        "over_quota_iff_rank_exceeds_quota",
        id="intermediate-over-quota-flag",
    ),
    pytest.param(
        "intermediate/int_video_quota",
        "update intermediate.int_video_quota set follower_snapshot_date = published_day + 1",
        "snapshot_not_from_future",
        id="intermediate-future-snapshot",
    ),
    pytest.param(
        "marts/account_rewards",
        "update marts.account_rewards set reward_points = reward_points + 1 "
        "where account_id = 'qa_merchant'",
        "points_formula",
        id="marts-one-point-too-many",
    ),
    pytest.param(
        "marts/reconciliation",
        "update marts.reconciliation set right_side = right_side + 0.01 where identity like 'R12%'",
        "identities_close_to_the_cent",
        id="marts-reconciliation-off-by-a-cent",
    ),
]


def _seeded(clean, tmp_path: Path, defect_sql: str) -> Path:
    """A copy of the clean warehouse with a defect seeded, and every check scope forgotten: the
    checks see every row, as after the load that would have brought the defect (D30)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(clean["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(defect_sql)
        con.execute("delete from quality.checked_through")
    return warehouse


@pytest.mark.parametrize(("asset", "defect_sql", "check_name"), DEFECTS)
def test_seeded_defect_fails_exactly_its_blocking_check(
    clean, tmp_path, asset, defect_sql, check_name
):
    warehouse = _seeded(clean, tmp_path, defect_sql)

    selection = _gx_checks_of(asset) | _downstream_of(asset)
    result = execute_selection(clean["landing"], warehouse, selection)

    assert _failed(result) == [(asset, check_name, AssetCheckSeverity.ERROR)]
    assert not result.success
    assert _materialized(result) == set()  # nothing downstream was built on the defect


def test_a_failing_scoped_suite_keeps_blocking_until_fixed(clean, tmp_path):
    """D30: raw.orders' suite validates the rows loaded after the load it last passed. A run it
    fails records nothing, so the next run validates (and blocks on) the same rows again; once
    they are fixed it passes and records the load it validated through."""
    warehouse = _seeded(
        clean, tmp_path, "update raw.orders set channel = 'tv' where channel = 'live'"
    )
    selection = _gx_checks_of("raw/orders")
    for _ in range(2):
        result = execute_selection(clean["landing"], warehouse, selection)
        assert _failed(result) == [("raw/orders", "channel_accepted", AssetCheckSeverity.ERROR)]
        assert (
            query(warehouse, "select * from quality.checked_through where scope = 'gx:raw.orders'")
            == []
        )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw.orders set channel = 'live' where channel = 'tv'")
    result = execute_selection(clean["landing"], warehouse, selection)
    assert _failed(result) == []
    assert query(
        warehouse, "select through from quality.checked_through where scope = 'gx:raw.orders'"
    ) == query(warehouse, "select max(load_id) from raw.load_files")


def test_points_above_cap_also_breaks_the_formula_check_not_only_the_cap(clean, tmp_path):
    """Points above the cap can never satisfy min(floor(base × rate), cap) either, so this defect
    has two checks to fail, not one: both do, with ERROR severity."""
    warehouse = _seeded(
        clean,
        tmp_path,
        "update marts.account_rewards set reward_points = 150001 where account_id = 'qa_promoter'",
    )
    result = execute_selection(clean["landing"], warehouse, _gx_checks_of("marts/account_rewards"))
    assert sorted(_failed(result)) == [
        ("marts/account_rewards", "points_formula", AssetCheckSeverity.ERROR),
        ("marts/account_rewards", "points_within_cap", AssetCheckSeverity.ERROR),
    ]


def test_rulebook_quarantine_warns_per_reason_and_never_blocks(rulebook_run):
    """Each contract reason seeded in the rulebook landing fails exactly its WARN check with the
    hand-counted number of rows; the run completes (rewards are asserted in test_rulebook)."""
    summary = rulebook_run["summary"]
    warned = quarantine_warnings(summary.check_warnings)
    raw_reasons = set(all_reasons())
    assert warned == {r: n for r, n in rulebook_run["quarantine"].items() if r in raw_reasons}
    assert summary.checks_passed > 0
    # the summary prints them once (D62): they are the quarantined rows among its figures, and
    # the quality line says so instead of listing each warning again
    assert summary.quarantine_warnings == summary.check_warnings
    n = len(summary.check_warnings)
    printed = summary.lines()
    assert not [line for line in printed if "warning:" in line], printed
    assert (
        f"quality checks      {summary.checks_passed:,} passed, {n} warnings "
        f"({n} of them the contract's quarantined rows above)"
    ) in printed


def test_every_contract_reason_has_a_warn_check():
    suites = all_suites(rule_var_defaults())
    warn_checks = {c.name for s in suites for c in s.checks if not c.blocking}
    assert {f"quarantined_{r}" for r in all_reasons()} == warn_checks


def test_docs_catalogue_names_every_check():
    catalogue = open("docs/quality.md").read()
    for suite in all_suites(rule_var_defaults()):
        for c in suite.checks:
            if c.name.startswith(("quarantined_", "rule_")) or c.name.endswith("_accepted"):
                continue  # documented per family in the raw section
            assert f"`{c.name}`" in catalogue, c.name
