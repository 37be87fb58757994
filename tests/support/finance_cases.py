"""The finance landing: a few accounts delivered over two days, with hand-computed rewards, run
once per test session through the real pipeline (`finance_runs` in tests/conftest.py) and read
by every finance test module (they share one xdist worker, tests/conftest.py).

Hand computation (default vars: window 40 days, baseline 92, rate 0.015, cap 150,000):
- fin_a, merchant, 5,000 followers (2 commerce videos a day, R6): on 2025-12-01 it posts fa-1,
  fa-2, fa-3, so fa-3 is over quota. Window sale 1,000.00 on fa-1 (counted), 300.00 on fa-3
  (over quota), 50.00 on an unknown video (R4 quarantine). No baseline: new entrant (R8).
  Day 1: base 1,000.00, 15 points. Day 2 brings a late partial refund of 400.00 on the
  1,000.00 order: base 600.00, 9 points -> a clawback of 6.
- fin_b, promoter, 20,000 followers: baseline sale 920.00 -> baseline 920 x 40 / 92 = 400.00.
  Day 1: window 2,000.00 (2025-12-05), base 1,600.00, 24 points. Day 2 adds a 1,000.00 window
  sale (2025-12-20): base 2,600.00, 39 points -> an increase of 15.
- fin_c, merchant, 500 followers, not self-operated: ineligible (below_follower_threshold);
  window 500.00 (2025-12-06), uncapped 7, paid 0.
- WEIRD_ACCOUNT, an account id holding a path separator, `<script>` and both quotes:
  enrolled, short-video commerce off (commerce_not_enabled), no video and no order: 0 points.
  It is there so statements and exports meet such an id, and an enrolled account that never
  posted, through the real pipeline.

The accrual (marts.reward_accrual) after day 2, by hand (days elapsed from 2025-11-22):
- 2025-11-22 .. 2025-11-30: nothing counted yet: 0.00, 0 points, 0 projected, 0 earning.
- 2025-12-01 (day 10): fin_a 600.00 -> floor(600.00 x 0.015) = 9; projected 600.00 x 40 / 10
  = 2,400.00 -> 36. GMV 600.00, 1 earning.
- 2025-12-05 (day 14): fin_b 2,000.00 - 400.00 = 1,600.00 -> 24, total 33; projected fin_a
  600.00 x 40 / 14 = 1,714.2857 -> 1,714.29 -> 25, fin_b 2,000.00 x 40 / 14 = 5,714.29 ->
  floor(5,314.29 x 0.015 = 79.71435) = 79: 104. GMV 2,600.00, 2 earning.
- 2025-12-06 (day 15): fin_c's 500.00 joins the GMV (3,100.00), not the points (ineligible);
  projected fin_a 1,600.00 -> 24, fin_b 5,333.33 -> floor(4,933.33 x 0.015 = 73.99995) = 73:
  97.
- 2025-12-20 (day 29, the last day with a counted order): fin_b 3,000.00 -> 39, total 48 =
  the programme's points; projected fin_a 827.59 -> 12, fin_b 4,137.93 -> floor(3,737.93 x
  0.015 = 56.06895) = 56: 68. GMV 4,100.00.
"""

from __future__ import annotations

from support.landing_builder import Landing, noon

WEIRD_ACCOUNT = 'fin_d/<script>alert("x\'s")</script>'

DAY1_POINTS = {"fin_a": 15, "fin_b": 24, "fin_c": 0, WEIRD_ACCOUNT: 0}
DAY2_POINTS = {"fin_a": 9, "fin_b": 39, "fin_c": 0, WEIRD_ACCOUNT: 0}


def day1() -> tuple[Landing, str]:
    """The first delivery, and the id of the order day 2 refunds in part."""
    land = Landing()
    land.account("fin_a")
    for n, hour in ((1, 10), (2, 11), (3, 12)):
        land.video(f"fa-{n}", "fin_a", f"2025-12-01T{hour}:00:00+08:00")
    refunded_later = land.sale("fin_a", "2025-12-01", "1000.00", video="fa-1")
    land.sale("fin_a", "2025-12-02", "300.00", video="fa-3")  # over quota (R6)
    land.sale("fin_a", "2025-12-03", "50.00", video="v-nope")  # R4: video_not_found
    land.account("fin_b", type="promoter", followers=20000)
    land.sale("fin_b", "2025-09-10", "920.00")
    land.sale("fin_b", "2025-12-05", "2000.00")
    land.account("fin_c", followers=500)
    land.sale("fin_c", "2025-12-06", "500.00")
    land.snapshot(WEIRD_ACCOUNT, enabled=False)  # enrolled, never posted a video
    land.enroll(WEIRD_ACCOUNT)
    return land, refunded_later


def day2(refunded_order: str) -> Landing:
    """The next day's order file: a late partial refund and one more sale."""
    land = Landing()
    land.row(
        "orders",
        "orders-day2.csv",
        order_id=refunded_order,
        account_id="fin_a",
        channel="short_video",
        video_id="fa-1",
        created_at=noon("2025-12-01"),
        amount="1000.00",
        updated_at="2026-01-10T12:00:00+08:00",
        refunded_amount="400.00",
        status="settled",
        settled_at=noon("2025-12-04"),
    )
    land.sale("fin_b", "2025-12-20", "1000.00", file="orders-day2.csv", order_id="fin_b-late")
    return land
