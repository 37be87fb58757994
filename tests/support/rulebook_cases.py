"""One landing folder in which each account exercises one rule, with its hand-computed answer.

Every number in EXPECTED was worked out by hand from the rulebook defaults: window 2025-11-22 ..
2025-12-31 (40 days), baseline 2025-08-01 .. 2025-10-31 (92 days), settlement cutoff 2026-01-31,
rate 1.5 %, cap 150,000, quota tiers <1,000 -> 1, 1,000-9,999 -> 2, 10,000-99,999 -> 5,
>=100,000 -> 10. Accounts enroll on 2025-11-20 (Beijing) unless a case says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from .landing_builder import Landing, noon

# marts.account_rewards' columns, in the contract's order: what every engine's result is
# compared on (tests/test_rulebook.py, tests/test_spark.py)
REWARD_COLUMNS = [
    "account_id",
    "account_type",
    "enrolled_at",
    "is_eligible",
    "ineligible_reason",
    "is_new_entrant",
    "baseline_period_gmv",
    "baseline_gmv",
    "window_gmv",
    "over_quota_gmv",
    "reward_base",
    "reward_points_uncapped",
    "reward_points",
    "is_capped",
]

D = Decimal


def build() -> tuple[Landing, dict[str, dict], dict[str, int]]:
    """The landing, the expected account_rewards values per account, and the expected number
    of quarantined rows per reason."""
    land = Landing()
    exp: dict[str, dict] = {}

    def expect(account: str, window: str, points: int, **more) -> None:
        exp[account] = {"window_gmv": D(window), "reward_points": points, **more}

    # ---- R1 calendar: Beijing days at both ends of both periods -----------------------------
    a = "r1_window_start"
    land.account(a)
    land.sale(a, "2025-11-21T16:00:00Z", "100.00")  # Beijing 11-22 00:00:00 -> window
    land.sale(a, "2025-11-21T15:59:59Z", "7.00")  # Beijing 11-21 23:59:59 -> neither
    expect(a, "100.00", 1, baseline_period_gmv=D("0.00"), is_new_entrant=True)

    a = "r1_window_end"
    land.account(a)
    land.sale(a, "2025-12-31T15:59:59Z", "200.00")  # Beijing 12-31 23:59:59 -> window
    land.sale(a, "2025-12-31T16:00:00Z", "50.00")  # Beijing 2026-01-01 00:00 -> neither
    expect(a, "200.00", 3)

    a = "r1_baseline_start"
    land.account(a)
    land.sale(a, "2025-07-31T16:00:00Z", "92.00")  # Beijing 08-01 00:00 -> baseline
    land.sale(a, "2025-07-31T15:59:59Z", "1000.00")  # Beijing 07-31 -> neither
    land.sale(a, "2025-12-01", "1040.00")
    # baseline 92.00 * 40 / 92 = 40.00; base 1040 - 40 = 1000.00 -> 15 points
    expect(
        a,
        "1040.00",
        15,
        baseline_period_gmv=D("92.00"),
        baseline_gmv=D("40.00"),
        reward_base=D("1000.00"),
        is_new_entrant=False,
    )

    a = "r1_baseline_end"
    land.account(a)
    land.sale(a, "2025-10-31T15:59:59Z", "46.00")  # Beijing 10-31 23:59:59 -> baseline
    land.sale(a, "2025-10-31T16:00:00Z", "500.00")  # Beijing 11-01 -> neither
    land.sale(a, "2025-12-01", "120.00")
    # baseline 46 * 40 / 92 = 20.00; base 100.00 -> 1.5 -> 1 point
    expect(
        a,
        "120.00",
        1,
        baseline_period_gmv=D("46.00"),
        baseline_gmv=D("20.00"),
        reward_base=D("100.00"),
    )

    a = "r1_offset_instant"
    land.account(a)
    land.sale(a, "2025-11-22T00:30:00+08:00", "300.00")  # = 2025-11-21T16:30Z, in the window
    expect(a, "300.00", 4)

    # ---- R2 change log ----------------------------------------------------------------------
    a = "r2_out_of_order_files"
    land.account(a)
    # The latest version (refunded) sits in a file sorting BEFORE the older versions' file.
    base = dict(
        account_id=a,
        channel="short_video",
        video_id=f"v-{a}",
        created_at=noon("2025-11-25"),
        amount="800.00",
    )
    land.row(
        "orders",
        "orders_0_late.csv",
        order_id="o-r2-ooo",
        updated_at=noon("2025-12-10"),
        refunded_amount="800.00",
        status="refunded",
        settled_at=noon("2025-12-01"),
        **base,
    )
    land.row(
        "orders",
        "orders_9_early.csv",
        order_id="o-r2-ooo",
        updated_at=noon("2025-11-25"),
        refunded_amount="0.00",
        status="paid",
        settled_at=None,
        **base,
    )
    land.row(
        "orders",
        "orders_9_early.csv",
        order_id="o-r2-ooo",
        updated_at=noon("2025-12-01"),
        refunded_amount="0.00",
        status="settled",
        settled_at=noon("2025-12-01"),
        **base,
    )
    land.sale(a, "2025-11-26", "500.00")
    expect(a, "500.00", 7)  # refunded order contributes 0; 500 * 1.5 % = 7.5 -> 7

    a = "r2_exact_duplicate"
    land.account(a)
    oid = land.sale(a, "2025-11-26", "400.00")
    land.row(
        "orders",
        "orders_9_early.csv",
        order_id=oid,
        updated_at=noon("2025-11-29"),
        account_id=a,
        channel="short_video",
        video_id=f"v-{a}",
        created_at=noon("2025-11-26"),
        amount="400.00",
        refunded_amount="0.00",
        status="settled",
        settled_at=noon("2025-11-29"),
    )
    expect(a, "400.00", 6)  # counted once

    a = "r2_same_time_conflict"
    land.account(a)
    base = dict(
        order_id="o-r2-conflict",
        account_id=a,
        channel="short_video",
        video_id=f"v-{a}",
        created_at=noon("2025-11-25"),
        amount="1000.00",
    )
    land.row(
        "orders",
        None,
        updated_at=noon("2025-11-25"),
        refunded_amount="0.00",
        status="paid",
        settled_at=None,
        **base,
    )
    land.row(
        "orders",
        None,
        updated_at=noon("2025-11-28"),
        refunded_amount="0.00",
        status="settled",
        settled_at=noon("2025-11-28"),
        **base,
    )
    land.row(
        "orders",
        "orders_9_early.csv",
        updated_at=noon("2025-11-28"),
        refunded_amount="1000.00",
        status="refunded",
        settled_at=None,
        **base,
    )
    land.sale(a, "2025-11-26", "200.00")
    expect(a, "200.00", 3)  # the conflicting order is quarantined, never guessed

    a = "r2_older_tie_is_not_a_conflict"
    land.account(a)
    base = dict(
        order_id="o-r2-oldtie",
        account_id=a,
        channel="short_video",
        video_id=f"v-{a}",
        created_at=noon("2025-11-25"),
        amount="100.00",
    )
    land.row(
        "orders",
        None,
        updated_at=noon("2025-11-25"),
        refunded_amount="0.00",
        status="paid",
        settled_at=None,
        **base,
    )
    land.row(
        "orders",
        None,
        updated_at=noon("2025-11-25"),
        refunded_amount="0.00",
        status="cancelled",
        settled_at=None,
        **base,
    )
    land.row(
        "orders",
        None,
        updated_at=noon("2025-11-28"),
        refunded_amount="0.00",
        status="settled",
        settled_at=noon("2025-11-28"),
        **base,
    )
    expect(a, "100.00", 1)

    # ---- R3 settled GMV ---------------------------------------------------------------------
    a = "r3_partial_refund"
    land.account(a)
    land.sale(a, "2025-11-25", "1000.00", refunded="333.33")
    expect(a, "666.67", 10)  # 666.67 * 0.015 = 10.00005 -> 10

    a = "r3_settlement_cutoff"
    land.account(a)
    land.sale(a, "2025-12-20", "100.00", settled="2026-01-31T15:59:59Z")  # Beijing 01-31
    land.sale(a, "2025-12-20", "200.00", settled="2026-01-31T16:00:00Z")  # Beijing 02-01
    expect(a, "100.00", 1)

    a = "r3_unsettled_states"
    land.account(a)
    land.sale(a, "2025-11-25", "100.00", status="paid")
    land.sale(a, "2025-11-25", "100.00", status="refunded", refunded="100.00")
    land.sale(a, "2025-11-25", "50.00", status="cancelled")
    land.sale(a, "2025-11-25", "70.00")
    expect(a, "70.00", 1)  # 1.05 -> 1

    # ---- R4 attribution ---------------------------------------------------------------------
    a = "r4_attribution"
    land.account(a)
    land.video("v-r4-plain", a, commerce=False)
    land.sale(a, "2025-11-25", "111.00", video="v-unknown")  # video_not_found
    land.sale(a, "2025-11-25", "222.00", video="v-r4-plain")  # video_not_commerce
    land.sale(a, "2025-11-25", "333.00", video="v-r1_window_end")  # video_of_other_account
    land.sale(a, "2025-11-25", "999.00", channel="live")  # never counts
    land.sale(a, "2025-11-25", "100.00")
    expect(a, "100.00", 1)

    # ---- R5 / R9 period of an order, not of its video ---------------------------------------
    a = "r9_old_video"
    land.account(a)
    land.video("v-r9-sept", a, noon("2025-09-01"))
    land.sale(a, "2025-09-15", "230.00", video="v-r9-sept")  # baseline: 230 * 40/92 = 100.00
    land.sale(a, "2025-12-01", "1100.00", video="v-r9-sept")  # window
    expect(a, "1100.00", 15, baseline_gmv=D("100.00"), reward_base=D("1000.00"))

    # ---- R6 posting quota -------------------------------------------------------------------
    a = "r6_deleted_still_uses_slot"
    land.account(a, followers=500, self_op=True)  # quota 1; eligible as self-operated
    land.video("v-r6-del-a", a, "2025-11-25T10:00:00+08:00", deleted="2025-11-25T11:00:00+08:00")
    land.video("v-r6-del-b", a, "2025-11-25T12:00:00+08:00")
    land.sale(a, "2025-11-26", "100.00", video="v-r6-del-a")
    land.sale(a, "2025-11-26", "300.00", video="v-r6-del-b")  # over quota
    expect(a, "100.00", 1, over_quota_gmv=D("300.00"))

    def quota_day(account: str, followers: int, videos: int, **kw) -> None:
        land.account(account, followers=followers, **kw)
        for i in range(videos):
            vid = f"v-{account}-{i:02d}"
            land.video(vid, account, f"2025-11-25T{8 + i:02d}:00:00+08:00")
            land.sale(account, "2025-11-27", "100.00", video=vid)

    quota_day("r6_tier_999", 999, 2, self_op=True)  # quota 1: 1 counted, 1 over
    expect("r6_tier_999", "100.00", 1, over_quota_gmv=D("100.00"))
    quota_day("r6_tier_1000", 1000, 3)  # quota 2
    expect("r6_tier_1000", "200.00", 3, over_quota_gmv=D("100.00"))
    quota_day("r6_tier_9999", 9999, 3)  # quota 2
    expect("r6_tier_9999", "200.00", 3, over_quota_gmv=D("100.00"))
    quota_day("r6_tier_10000", 10000, 6)  # quota 5
    expect("r6_tier_10000", "500.00", 7, over_quota_gmv=D("100.00"))
    quota_day("r6_tier_99999", 99999, 6)  # quota 5
    expect("r6_tier_99999", "500.00", 7, over_quota_gmv=D("100.00"))
    quota_day("r6_tier_100000", 100000, 11)  # quota 10
    expect("r6_tier_100000", "1000.00", 15, over_quota_gmv=D("100.00"))

    a = "r6_follower_growth"
    land.account(a, followers=9000)
    land.snapshot(a, "2025-11-26", followers=12000)
    for day in ("2025-11-25", "2025-11-27"):  # quota 2 on the 25th, 5 on the 27th
        for i in range(3):
            vid = f"v-{a}-{day[-2:]}-{i}"
            land.video(vid, a, f"{day}T{9 + i:02d}:00:00+08:00")
            land.sale(a, "2025-11-28", "100.00", video=vid)
    expect(a, "500.00", 7, over_quota_gmv=D("100.00"))

    a = "r6_beijing_day_of_publishing"
    land.account(a, followers=500, self_op=True)  # quota 1
    # 2025-11-24T16:30Z is Beijing 11-25 00:30: same Beijing day as the second video
    land.video("v-r6-bj-1", a, "2025-11-24T16:30:00Z")
    land.video("v-r6-bj-2", a, "2025-11-25T03:00:00Z")
    land.sale(a, "2025-11-26", "100.00", video="v-r6-bj-1")
    land.sale(a, "2025-11-26", "100.00", video="v-r6-bj-2")
    expect(a, "100.00", 1, over_quota_gmv=D("100.00"))

    a = "r6_over_quota_in_baseline"
    land.account(a)  # quota 2
    for i in range(3):
        vid = f"v-{a}-{i}"
        land.video(vid, a, f"2025-09-10T{9 + i:02d}:00:00+08:00")
        land.sale(a, "2025-09-12", "92.00", video=vid)
    land.sale(a, "2025-12-01", "1080.00")
    # baseline counts 2 x 92 = 184 -> 80.00; the third is in neither period; over_quota_gmv is
    # reported for window orders only
    expect(
        a,
        "1080.00",
        15,
        baseline_period_gmv=D("184.00"),
        baseline_gmv=D("80.00"),
        over_quota_gmv=D("0.00"),
    )

    # ---- R7 / R8 baseline and new entrants --------------------------------------------------
    a = "r7_float_trap"
    land.account(a)
    land.sale(a, "2025-09-10", "60.03")
    land.sale(a, "2025-12-01", "1026.10")
    # 60.03 * 40 / 92 = 26.10 exactly; 1000.00 * 0.015 = 15 (a float gives 14.999...)
    expect(
        a,
        "1026.10",
        15,
        baseline_gmv=D("26.10"),
        reward_base=D("1000.00"),
        reward_points_uncapped=15,
    )

    a = "r7_half_up"
    land.account(a)
    land.sale(a, "2025-09-10", "0.45")  # 0.45 * 40 / 92 = 0.19565... -> 0.20
    land.sale(a, "2025-12-01", "100.20")
    expect(a, "100.20", 1, baseline_gmv=D("0.20"), reward_base=D("100.00"))

    a = "r8_new_entrant"
    land.account(a)
    land.sale(a, "2025-12-01", "500.00")
    expect(a, "500.00", 7, is_new_entrant=True, baseline_gmv=D("0.00"))

    a = "r8_refunded_baseline_is_new_entrant"
    land.account(a)
    land.sale(a, "2025-09-10", "300.00", status="refunded", refunded="300.00")
    land.sale(a, "2025-12-01", "100.00")
    expect(a, "100.00", 1, is_new_entrant=True, baseline_period_gmv=D("0.00"))

    a = "r11_below_baseline"
    land.account(a)
    land.sale(a, "2025-09-10", "920.00")  # baseline 400.00
    land.sale(a, "2025-12-01", "300.00")
    expect(
        a,
        "300.00",
        0,
        baseline_gmv=D("400.00"),
        reward_base=D("0.00"),
        is_new_entrant=False,
        reward_points_uncapped=0,
    )

    # ---- R10 eligibility: each reason and their priority ------------------------------------
    a = "r10_enrolled_after_campaign"  # also has no snapshot: the earlier test wins
    land.enroll(a, "2025-12-31T16:00:00Z")  # Beijing 2026-01-01
    land.video(f"v-{a}", a)
    land.sale(a, "2025-12-01", "200.00")
    expect(
        a,
        "200.00",
        0,
        is_eligible=False,
        ineligible_reason="enrolled_after_campaign",
        reward_points_uncapped=3,
        account_type=None,
        is_capped=False,
    )

    a = "r10_enrolled_last_beijing_minute"
    land.account(a, enrolled_at="2025-12-31T15:59:59Z")  # Beijing 12-31 23:59:59
    land.sale(a, "2025-12-01", "100.00")
    expect(a, "100.00", 1, is_eligible=True, ineligible_reason=None)

    a = "r10_no_snapshot"  # only a snapshot after the enrollment day; wrong channel too
    land.snapshot(a, "2025-11-21", type="promoter")
    land.enroll(a, via="shop_account")
    land.video(f"v-{a}", a)
    land.sale(a, "2025-12-01", "100.00")
    expect(
        a,
        "100.00",
        0,
        is_eligible=False,
        ineligible_reason="no_snapshot",
        account_type=None,
        reward_points_uncapped=1,
    )

    a = "r10_wrong_channel"  # a promoter enrolling as a shop; commerce off too
    land.account(a, type="promoter", via="shop_account", enabled=False)
    expect(
        a,
        "0.00",
        0,
        is_eligible=False,
        ineligible_reason="wrong_enrollment_channel",
        account_type="promoter",
    )

    a = "r10_merchant_wrong_channel"
    land.account(a, type="merchant", via="channels_account")
    expect(a, "0.00", 0, is_eligible=False, ineligible_reason="wrong_enrollment_channel")

    a = "r10_commerce_not_enabled"  # 10 followers too: the earlier test wins
    land.account(a, enabled=False, followers=10)
    land.sale(a, "2025-12-01", "20000000.00")
    # ineligible accounts keep their money columns; points 0 and never "capped"
    expect(
        a,
        "20000000.00",
        0,
        is_eligible=False,
        ineligible_reason="commerce_not_enabled",
        reward_points_uncapped=300000,
        is_capped=False,
    )

    a = "r10_below_threshold"
    land.account(a, followers=999)
    expect(a, "0.00", 0, is_eligible=False, ineligible_reason="below_follower_threshold")

    a = "r10_threshold_exactly"
    land.account(a, followers=1000, type="promoter")
    land.sale(a, "2025-12-01", "100.00")
    expect(a, "100.00", 1, is_eligible=True, account_type="promoter")

    a = "r10_self_operated_small"
    land.account(a, followers=10, self_op=True)
    land.sale(a, "2025-12-01", "100.00")
    expect(a, "100.00", 1, is_eligible=True)

    a = "r10_first_enrollment_counts"
    land.account(a, enrolled_at="2025-11-10T10:00:00+08:00", via="channels_account")
    land.enroll(a, "2025-11-15T10:00:00+08:00", via="shop_account")
    expect(
        a,
        "0.00",
        0,
        is_eligible=False,
        ineligible_reason="wrong_enrollment_channel",
        enrolled_at=datetime(2025, 11, 10, 2, 0, tzinfo=UTC),
    )

    a = "r10_snapshot_as_of_enrollment"
    land.snapshot(a, "2025-11-01", enabled=False)
    land.snapshot(a, "2025-11-21", enabled=True)  # after the enrollment day: not used
    land.enroll(a)
    expect(a, "0.00", 0, is_eligible=False, ineligible_reason="commerce_not_enabled")

    a = "r10_snapshot_on_beijing_enrollment_day"
    land.snapshot(a, "2025-11-19", enabled=False)
    land.snapshot(a, "2025-11-20", enabled=True)
    land.enroll(a, "2025-11-19T16:30:00Z")  # Beijing 2025-11-20 00:30
    expect(a, "0.00", 0, is_eligible=True, ineligible_reason=None)

    # ---- R11 floor and cap ------------------------------------------------------------------
    a = "r11_floor"
    land.account(a)
    land.sale(a, "2025-12-01", "133.33")  # 1.99995 -> 1
    expect(a, "133.33", 1, reward_points_uncapped=1)

    a = "r11_cap_exactly"
    land.account(a)
    land.sale(a, "2025-12-01", "10000000.00")  # exactly 150,000 points
    expect(a, "10000000.00", 150000, reward_points_uncapped=150000, is_capped=False)

    a = "r11_cap_above"
    land.account(a)
    land.sale(a, "2025-12-01", "10000066.67")  # 150,001.00005 -> 150,001 -> capped
    expect(a, "10000066.67", 150000, reward_points_uncapped=150001, is_capped=True)

    # Sums past decimal(18,2) (D59): each order fits decimal(18,2) (16 whole digits), the
    # account's window GMV and its one day's GMV do not. Window 6,000,000,000,000,000.00 × 2 on
    # one day + 10,000.00 = 12,000,000,000,010,000.00 (17 whole digits); baseline 9,200.00 ×
    # 40 / 92 = 4,000.00; base 12,000,000,000,006,000.00; × 0.015 = 180,000,000,000,090.00 ->
    # 180,000,000,000,090 points uncapped, capped at 150,000. The accrual projects the GMV of day
    # 10 (2025-12-01) × 40 / 10 = 48,000,000,000,000,000.00 (R7's half-up arithmetic at that size).
    a = "r11_sums_past_decimal_18_2"
    land.account(a)
    land.sale(a, "2025-09-10", "9200.00")
    land.sale(a, "2025-12-01", "6000000000000000.00")
    land.sale(a, "2025-12-01", "6000000000000000.00")
    land.sale(a, "2025-12-02", "10000.00")
    expect(
        a,
        "12000000000010000.00",
        150000,
        baseline_period_gmv=D("9200.00"),
        baseline_gmv=D("4000.00"),
        reward_base=D("12000000000006000.00"),
        reward_points_uncapped=180_000_000_000_090,
        is_capped=True,
        is_new_entrant=False,
    )

    # ---- R12 contract violations: quarantined, not dropped, not crashing --------------------
    a = "r12_dirty_neighbours"
    land.account(a)
    land.sale(a, "2025-12-01", "100.00")
    bad = dict(
        account_id=a,
        channel="short_video",
        video_id=f"v-{a}",
        created_at=noon("2025-12-01"),
        updated_at=noon("2025-12-01"),
        amount="100.00",
        refunded_amount="0.00",
        status="paid",
        settled_at=None,
    )
    f = "orders_dirty.csv"
    land.row("orders", f, **{**bad, "order_id": "bad-1", "amount": None})
    land.row("orders", f, **{**bad, "order_id": "bad-2", "amount": "12.345"})
    land.row("orders", f, **{**bad, "order_id": "bad-3", "created_at": "2025-12-01T12:00:00"})
    land.row("orders", f, **{**bad, "order_id": "bad-4", "channel": "tv"})
    land.row("orders", f, **{**bad, "order_id": "bad-5", "amount": "0.00"})
    land.row("orders", f, **{**bad, "order_id": "bad-6", "refunded_amount": "100.01"})
    land.row("orders", f, **{**bad, "order_id": "bad-7", "status": "settled"})
    land.row(
        "orders",
        f,
        **{**bad, "order_id": "bad-8", "status": "settled", "settled_at": noon("2025-11-30")},
    )
    land.row("orders", f, **{**bad, "order_id": "bad-9", "video_id": None})
    land.row("orders", f, **{**bad, "order_id": "bad-10", "channel": "live"})
    land.row("orders", f, **{**bad, "order_id": "bad-11", "refunded_amount": "abc"})
    expect(a, "100.00", 1)

    land.video("v-dup", "r12_dirty_neighbours", noon("2025-07-15"), file="videos_dirty.csv")
    land.video("v-dup", "r12_dirty_neighbours", noon("2025-07-16"), file="videos_dirty.csv")
    land.video(
        "v-r12-backwards",
        "r12_dirty_neighbours",
        noon("2025-07-15"),
        deleted=noon("2025-07-14"),
        file="videos_dirty.csv",
    )
    land.video(
        "v-r12-identical",
        "r12_dirty_neighbours",
        noon("2025-07-15"),
        commerce=False,
        file="videos_dirty.csv",
    )
    land.video(
        "v-r12-identical",
        "r12_dirty_neighbours",
        noon("2025-07-15"),
        commerce=False,
        file="videos_dirty.csv",
    )  # identical: collapses to one row, not quarantined

    a = "r12_conflicting_snapshot"  # the 11-01 snapshot is ambiguous: fall back to 07-01
    land.account(a)
    land.snapshot(a, "2025-11-01", enabled=False, file="snapshots_dirty.csv")
    land.snapshot(a, "2025-11-01", enabled=True, followers=1, file="snapshots_dirty.csv")
    land.row(
        "account_snapshots",
        "snapshots_dirty.csv",
        snapshot_date="2025-11-02",
        account_id=a,
        account_type="merchant",
        follower_count=-5,
        short_video_commerce_enabled=True,
        is_shop_self_operated=False,
    )
    land.sale(a, "2025-12-01", "100.00")
    expect(a, "100.00", 1, is_eligible=True)

    a = "r12_parquet_file"  # a typed Parquet landing file beside the CSVs
    land.account(a)
    land.sale(a, "2025-12-01", "100.00", file="orders_typed.parquet")
    expect(a, "100.00", 1)

    # enrollment rows that break the contract: the account is not enrolled at all
    land.row(
        "enrollments",
        "enrollments_dirty.csv",
        account_id="r12_never_enrolled",
        enrolled_at="2025-11-20T10:00:00",
        enrolled_via="shop_account",
    )
    land.row(
        "enrollments",
        "enrollments_dirty.csv",
        account_id="r12_never_enrolled",
        enrolled_at=noon("2025-11-20"),
        enrolled_via="wechat",
    )

    quarantine = {
        "missing_required_value": 1,
        "unparseable_value": 2,
        "timestamp_without_zone": 2,  # 1 order, 1 enrollment
        "invalid_category": 2,  # 1 order channel, 1 enrolled_via
        "non_positive_amount": 1,
        "refund_out_of_range": 1,
        "settled_without_settled_at": 1,
        "settled_before_created": 1,
        "short_video_without_video_id": 1,
        "video_id_on_other_channel": 1,
        "duplicate_key": 4,  # 2 videos + 2 snapshots
        "deleted_before_published": 1,
        "negative_follower_count": 1,
        "order_version_conflict": 2,
        "video_not_found": 1,
        "video_not_commerce": 1,
        "video_of_other_account": 1,
    }
    return land, exp, quarantine
