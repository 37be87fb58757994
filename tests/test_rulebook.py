"""Every rule R1-R12 on hand-built landing data, through the real Dagster + dbt pipeline.

Each account of tests/support/rulebook_cases.py exercises one rule; its expected values were
computed by hand and sit next to the data there. One pipeline run serves all of these tests.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from support import rulebook_cases
from support.html_page import Page
from support.pipeline import assert_matches_hand_computation, cli_ok, query

from orchestration.cli import main

_, EXPECTED, QUARANTINE = rulebook_cases.build()

COLUMNS = rulebook_cases.REWARD_COLUMNS


@pytest.fixture(scope="module")
def rewards(rulebook_run) -> dict[str, dict]:
    rows = query(
        rulebook_run["warehouse"], f"select {', '.join(COLUMNS)} from marts.account_rewards"
    )
    return {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows}


@pytest.mark.parametrize("account", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_account_reward_matches_hand_computation(rewards, account):
    assert_matches_hand_computation(rewards, account, EXPECTED[account])


def test_r11_money_columns_are_exact_decimals(rewards):
    row = rewards["r7_float_trap"]
    for column in ("baseline_period_gmv", "baseline_gmv", "window_gmv", "reward_base"):
        assert isinstance(row[column], Decimal)
    assert row["baseline_gmv"] == Decimal("26.10") and row["reward_points"] == 15


def test_account_rewards_has_exactly_the_enrolled_accounts(rewards):
    # r12_never_enrolled's enrollment rows were all quarantined: not enrolled, not in the table
    assert set(rewards) == set(EXPECTED)


def test_account_rewards_schema_is_the_rulebooks(rulebook_run):
    rows = query(
        rulebook_run["warehouse"],
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'account_rewards' "
        "order by ordinal_position",
    )
    assert rows == [
        ("account_id", "VARCHAR"),
        ("account_type", "VARCHAR"),
        ("enrolled_at", "TIMESTAMP WITH TIME ZONE"),
        ("is_eligible", "BOOLEAN"),
        ("ineligible_reason", "VARCHAR"),
        ("is_new_entrant", "BOOLEAN"),
        # sums of decimal(18,2) orders, and the points they earn, are wider (D59)
        ("baseline_period_gmv", "DECIMAL(38,2)"),
        ("baseline_gmv", "DECIMAL(38,2)"),
        ("window_gmv", "DECIMAL(38,2)"),
        ("over_quota_gmv", "DECIMAL(38,2)"),
        ("reward_base", "DECIMAL(38,2)"),
        ("reward_points_uncapped", "DECIMAL(38,0)"),
        ("reward_points", "BIGINT"),
        ("is_capped", "BOOLEAN"),
    ]


def test_r12_quarantine_counts_by_reason(rulebook_run):
    rows = query(
        rulebook_run["warehouse"], "select reason, count(*) from marts.quarantine group by 1"
    )
    assert dict(rows) == QUARANTINE
    # the summary's figures (program_summary): rows per "dataset: reason (rule)", added up here
    # by reason, and in all
    summary, by_reason = rulebook_run["summary"], {}
    for figure in summary.figures:
        if figure.metric == "quarantined_rows" and figure.breakdown != "all datasets":
            reason = figure.breakdown.split(": ")[1].split(" (")[0]
            by_reason[reason] = by_reason.get(reason, 0) + int(figure.value)
    assert by_reason == QUARANTINE
    assert summary.value("quarantined_rows", "all datasets") == sum(QUARANTINE.values())


def test_r12_quarantined_rows_keep_their_values_file_and_row(rulebook_run):
    rows = query(
        rulebook_run["warehouse"],
        "select source_file, source_row, detail, record->>'amount' "
        "from marts.quarantine where reason = 'unparseable_value' "
        "and record->>'order_id' = 'bad-2'",
    )
    assert len(rows) == 1
    source_file, source_row, detail, amount = rows[0]
    assert source_file.endswith("orders/orders_dirty.csv") and source_row == 2
    assert detail == "amount" and amount == "12.345"


def test_r2_conflict_lists_each_conflicting_version(rulebook_run):
    rows = query(
        rulebook_run["warehouse"],
        "select record->>'status' from marts.quarantine "
        "where reason = 'order_version_conflict' order by 1",
    )
    assert [r[0] for r in rows] == ["refunded", "settled"]


def test_r12_reconciliation_closes_to_the_cent(rulebook_run):
    rows = query(
        rulebook_run["warehouse"],
        "select identity, left_side, right_side, is_balanced from marts.reconciliation",
    )
    assert rows and all(r[3] for r in rows), rows
    window = [r for r in rows if r[0].startswith("R12")][0]
    # sum of hand-computed window + over-quota GMV over every enrolled account
    expected = sum(
        e["window_gmv"] + e.get("over_quota_gmv", Decimal("0")) for e in EXPECTED.values()
    )
    assert window[1] == window[2] == expected


def test_summary_reports_points_and_caps(rulebook_run):
    summary = rulebook_run["summary"]
    assert summary.value("enrolled_accounts", "all enrolled accounts") == len(EXPECTED)
    assert summary.value("reward_points", "eligible accounts") == sum(
        e["reward_points"] for e in EXPECTED.values()
    )
    # r11_cap_above and r11_sums_past_decimal_18_2
    assert summary.value("capped_accounts", "eligible accounts") == 2
    # every enrolled account's window GMV, the sum past decimal(18,2) included (D59)
    assert summary.value("window_gmv", "all enrolled accounts") == sum(
        e["window_gmv"] for e in EXPECTED.values()
    )
    assert summary.unbalanced_identities == []


def test_r3_an_excluded_order_says_which_case_of_r3_applies(rulebook_run):
    """D65: R3's zero has four causes, and an order line names its own: the order's state
    (refunded, cancelled, paid but not yet settled) or a settlement after the cutoff. Every R3
    exclusion of the rulebook, by hand: r3_unsettled_states' paid, refunded and cancelled
    orders; r3_settlement_cutoff's order settled Beijing 2026-02-01 (cutoff 2026-01-31);
    r2_out_of_order_files' order, refunded in its latest version; r8's refunded baseline
    order. Each contributes 0.00 settled GMV."""
    zero = Decimal("0.00")
    assert query(
        rulebook_run["warehouse"],
        """
        select account_id, period, status, settled_day::varchar, excluded_reason, settled_gmv
        from marts.reward_order_lines where rule_id = 'R3' order by all""",
    ) == [
        ("r2_out_of_order_files", "window", "refunded", "2025-12-01", "refunded", zero),
        ("r3_settlement_cutoff", "window", "settled", "2026-02-01", "settled_after_cutoff", zero),
        ("r3_unsettled_states", "window", "cancelled", None, "cancelled", zero),
        ("r3_unsettled_states", "window", "paid", None, "not_yet_settled", zero),
        ("r3_unsettled_states", "window", "refunded", None, "refunded", zero),
        ("r8_refunded_baseline_is_new_entrant", "baseline", "refunded", None, "refunded", zero),
    ]
    flag = ("--warehouse", str(rulebook_run["warehouse"]))
    explained = [
        " ".join(line.split())
        for line in cli_ok("explain", "r3_unsettled_states", *flag).splitlines()
    ]
    for reason in ("cancelled", "not_yet_settled", "refunded"):
        assert f"{reason} R3 window 1 order 0.00" in explained


@pytest.fixture(scope="module")
def statements(rulebook_run, tmp_path_factory):
    """Every enrolled account's statement, from the rulebook run's serving copy."""
    out = tmp_path_factory.mktemp("rulebook-statements") / "statements"
    flag = ("--warehouse", str(rulebook_run["warehouse"]))
    done = CliRunner().invoke(main, ["statements", "--out", str(out), *flag])
    assert done.exit_code == 0, done.output
    return out


def _words(statements, account: str) -> str:
    return Page((statements / f"{account}.html").read_text(encoding="utf-8")).words


def test_every_enrolled_account_gets_its_statement(statements):
    """D63: one page per enrolled account, however little it did: here accounts with no
    snapshot, no video (r10_snapshot_as_of_enrollment, judged on a snapshot, never posted), no
    order (r10_below_threshold: its one video of 2025-07-15, no sale)."""
    assert sorted(p.name for p in statements.iterdir()) == sorted(
        [f"{account}.html" for account in EXPECTED] + ["index.html"]
    )
    no_video = _words(statements, "r10_snapshot_as_of_enrollment")
    for expected in [
        "0 commerce videos on 0 days; 0 days over quota",
        "活动期 window 2025-11-22 – 2025-12-31 0 0.00",
        "排除的订单 Orders excluded (R3–R6) 无 none",
        "未开通短视频带货 commerce_not_enabled",
    ]:
        assert expected in no_video, f"{expected!r} not in:\n{no_video}"
    no_order = _words(statements, "r10_below_threshold")
    assert "1 commerce video on 1 day; 0 days over quota" in no_order
    assert "排除的订单 Orders excluded (R3–R6) 无 none" in no_order


def test_r3_a_statement_names_each_case_in_chinese_and_english(statements):
    unsettled = _words(statements, "r3_unsettled_states")
    for expected in [
        "已取消 cancelled R3 1 0.00",
        "已付款，尚未结算 not_yet_settled R3 1 0.00",
        "已退款 refunded R3 1 0.00",
    ]:
        assert expected in unsettled, f"{expected!r} not in:\n{unsettled}"
    late = _words(statements, "r3_settlement_cutoff")
    assert "结算晚于截止日 settled_after_cutoff R3 1 0.00" in late
