"""The generator's calendar: Beijing days as integers, and `Calendar`, the world's dates anchored on
the rule vars (R1, R3, R5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from typing import Any

import numpy as np

DAY = 86_400
BJ_OFFSET = 8 * 3600
BEIJING = timezone(timedelta(hours=8))
EPOCH = date(1970, 1, 1)


def bj_day(iso: str) -> int:
    """Days since 1970-01-01 of a Beijing calendar date (`YYYY-MM-DD`)."""
    return (date.fromisoformat(iso) - EPOCH).days


def day_start(day: int | np.ndarray) -> int | np.ndarray:
    """UTC epoch seconds of Beijing midnight starting `day` (UTC 16:00 the day before)."""
    return day * DAY - BJ_OFFSET


def day_of(seconds: int | np.ndarray) -> int | np.ndarray:
    """Beijing day (days since epoch) of UTC epoch seconds (R1)."""
    return (seconds + BJ_OFFSET) // DAY


@dataclass(frozen=True)
class Calendar:
    """The generator's world in Beijing days, anchored on the rule vars' dates (R5, R3), so the
    boundary-straddling data straddle whatever dates the run uses. Only when activity happens is
    the generator's own choice, each as an offset from a rule date (the comments give the
    defaults' days)."""

    baseline_first: int
    baseline_last: int
    campaign_first: int
    campaign_last: int
    settlement_cutoff: int

    @classmethod
    def from_rule_vars(cls, rule_vars: Mapping[str, Any]) -> Calendar:
        return cls(
            *(
                bj_day(str(rule_vars[name]))
                for name in (
                    "baseline_start",
                    "baseline_end",
                    "campaign_start",
                    "campaign_end",
                    "settlement_cutoff",
                )
            )
        )

    @property
    def order_first(self) -> int:  # 2025-08-01: orders from the first baseline day
        return self.baseline_first

    @property
    def order_last(self) -> int:  # 2026-01-10: ten days of orders after the window
        return self.campaign_last + 10

    @property
    def snap_first(self) -> int:  # 2025-07-01: snapshots from a month before the baseline
        return self.baseline_first - 31

    @property
    def snap_last(self) -> int:  # 2026-01-10
        return self.order_last

    @property
    def video_first(self) -> int:  # 2025-07-01
        return self.snap_first

    @property
    def video_last(self) -> int:  # 2025-12-31: videos until the window's last day
        return self.campaign_last

    @property
    def new_entrant_from(self) -> int:  # 2025-11-01: new entrants sell nothing before this day
        return self.baseline_last + 1

    @property
    def new_entrant_videos_from(self) -> int:  # 2025-10-10
        return self.baseline_last - 21

    @property
    def new_entrant_snapshots_from(self) -> int:  # 2025-10-01
        return self.baseline_last - 30

    @property
    def enroll_first(self) -> int:  # 2025-11-01: enrollment opens three weeks before the window
        return self.campaign_first - 21

    @property
    def after_campaign_last(self) -> int:  # 2026-01-10: the last late enrollments
        return self.campaign_last + 10

    @property
    def follower_ref_day(self) -> int:  # 2025-11-20: non-enrolled accounts' follower tier
        return self.campaign_first - 2

    @property
    def double_11(self) -> int:  # 2025-11-11, the shopping festival before the window
        return self.campaign_first - 11

    @property
    def double_12(self) -> int:  # 2025-12-12, inside the window
        return self.campaign_first + 20

    @property
    def settlement_boundary(self) -> int:  # 2026-02-01: the day after the settlement cutoff
        return self.settlement_cutoff + 1

    @property
    def horizon(self) -> int:  # 2026-03-01 00:00 Beijing: data are "extracted" then
        return day_start(self.settlement_boundary + 28)

    @property
    def boundary_days(self) -> tuple[int, ...]:
        """First days of periods (baseline, the day after it, window, the day after it): orders
        are pinned to both sides of these Beijing midnights, so R1 mistakes (UTC days) change
        results."""
        return (
            self.order_first,
            self.baseline_last + 1,
            self.campaign_first,
            self.campaign_last + 1,
        )

    @property
    def ts_base(self) -> int:  # 2025-01-01: offset for packing (account, time) into one int64
        return day_start(bj_day(f"{fmt_day(self.baseline_first)[:4]}-01-01"))

    @property
    def last_minute(self) -> int:  # 23:59:59 on the window's last day
        return day_start(self.campaign_last + 1) - 1

    @property
    def campaign_noon(self) -> int:  # 2025-11-25 12:00: an ordinary campaign-day instant
        return day_start(self.campaign_first + 3) + 12 * 3600


def fmt_day(day: int) -> str:
    """`YYYY-MM-DD` of a Beijing day."""
    return (EPOCH + timedelta(days=int(day))).isoformat()


# Beijing hour-of-day activity profile: quiet nights, evening peak.
HOUR_WEIGHTS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 6, 6, 7, 8, 10, 12, 13, 11, 6], dtype=float
)
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
