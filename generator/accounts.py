"""Accounts, their enrollments (R10) and their weekly snapshots (R6, R10)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .arrays import categories, fmt_ts, id_width, ids, log_uniform, time_of_day
from .calendar import DAY, Calendar, day_of, day_start
from .vocabulary import (
    ACCOUNT_TYPES,
    ENROLLED_VIA,
    G_AFTER,
    G_DISABLED,
    G_NO_SNAPSHOT,
    G_NONE,
    G_OK,
    G_WRONG_VIA,
    GROUP_P,
    MERCHANT,
    PROMOTER,
    TIER_HIGH,
    TIER_LOW,
    TIER_P,
    TIER_VOLUME,
)


@dataclass
class Accounts:
    """Per-account traits (index i is account `acct-{i+1}`)."""

    kind: np.ndarray  # MERCHANT / PROMOTER
    tier: np.ndarray  # quota tier on `ref_day`
    self_operated: np.ndarray
    followers_ref: np.ndarray  # follower count on `ref_day`
    growth: np.ndarray  # log-growth of followers per 30 days
    ref_day: np.ndarray
    weight: np.ndarray  # heavy-tailed share of orders
    amount_scale: np.ndarray  # typical basket size multiplier
    short_video_share: np.ndarray
    new_entrant: np.ndarray
    group: np.ndarray
    enrolled_at: np.ndarray  # seconds, -1 when never enrolled
    first_snapshot: np.ndarray  # Beijing day
    enabled_from: np.ndarray  # Beijing day commerce is switched on

    @property
    def n(self) -> int:
        return len(self.kind)


# (tier, group, merchant, self-operated, new entrant, followers): one account of each so every
# R6 tier and R8/R10 outcome exists at any size.
FORCED_ACCOUNTS = (
    (0, G_OK, False, False, False, 400),  # below_follower_threshold
    (0, G_OK, True, True, False, 600),  # self-operated shop under 1,000: eligible
    (1, G_OK, False, False, False, 3_000),
    (2, G_OK, True, False, True, 30_000),  # eligible new entrant
    (3, G_OK, False, False, False, 500_000),
    (1, G_AFTER, False, False, False, 5_000),
    (2, G_NO_SNAPSHOT, True, False, False, 20_000),
    (2, G_WRONG_VIA, False, False, False, 40_000),
    (1, G_DISABLED, True, False, False, 2_000),
    (1, G_NONE, False, False, False, 4_000),
    (1, G_OK, False, False, False, 6_000),  # enrolled 23:59:59 on the last campaign day
    (1, G_AFTER, True, False, False, 7_000),  # enrolled 00:00:00 the day after
)


def make_accounts(cal: Calendar, rng: np.random.Generator, n: int) -> Accounts:
    tier = rng.choice(4, n, p=TIER_P)
    group = rng.choice(6, n, p=GROUP_P)
    merchant = rng.random(n) < 0.35
    self_operated = merchant & (rng.random(n) < 0.3)
    new_entrant = rng.random(n) < 0.15
    growth = rng.normal(0.04, 0.06, n)
    followers = np.where(
        tier == 3,
        np.minimum(TIER_LOW[3] * (rng.pareto(1.3, n) + 1), 50_000_000),
        log_uniform(rng, TIER_LOW[tier], np.maximum(TIER_HIGH[tier], TIER_LOW[tier] + 1)),
    )
    forced = rng.permutation(n)[: len(FORCED_ACCOUNTS)]
    for i, (t, g, m, s, ne, f) in zip(forced, FORCED_ACCOUNTS, strict=False):
        tier[i], group[i], merchant[i], self_operated[i] = t, g, m, s
        new_entrant[i], followers[i], growth[i] = ne, f, 0.0
    weight = (rng.pareto(1.2, n) + 1) * TIER_VOLUME[tier]

    enrolled_at = _enrollment_times(cal, rng, group)
    enrolled_at[forced[-2]] = cal.last_minute
    enrolled_at[forced[-1]] = cal.last_minute + 1
    enroll_day = np.where(enrolled_at >= 0, day_of(enrolled_at), 10**6)

    first_snapshot = np.where(
        new_entrant,
        cal.new_entrant_snapshots_from + rng.integers(0, 25, n),
        cal.snap_first + rng.integers(0, 21, n),
    )
    no_snap = group == G_NO_SNAPSHOT
    first_snapshot[no_snap] = enroll_day[no_snap] + rng.integers(1, 15, no_snap.sum())
    # Some accounts switch commerce on a while after their first snapshot; enrolled ones do it
    # before enrolling, except the group built to fail on it.
    late_switch = rng.random(n) < 0.15
    enabled_from = first_snapshot + np.where(late_switch, rng.integers(7, 60, n), 0)
    enabled_from = np.minimum(enabled_from, enroll_day)
    disabled = group == G_DISABLED
    enabled_from[disabled] = enroll_day[disabled] + rng.integers(1, 40, disabled.sum())

    return Accounts(
        kind=np.where(merchant, MERCHANT, PROMOTER).astype(np.int8),
        tier=tier.astype(np.int8),
        self_operated=self_operated,
        followers_ref=followers,
        growth=growth,
        ref_day=np.where(enrolled_at >= 0, enroll_day, cal.follower_ref_day),
        weight=weight,
        amount_scale=rng.lognormal(0.0, 0.5, n),
        short_video_share=np.clip(rng.normal(0.6, 0.15, n), 0.05, 0.95),
        new_entrant=new_entrant,
        group=group.astype(np.int8),
        enrolled_at=enrolled_at,
        first_snapshot=first_snapshot,
        enabled_from=enabled_from,
    )


def _enrollment_times(cal: Calendar, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """First enrollment instants: a rush around the campaign start, late ones in January."""
    n = len(group)
    day = np.where(
        rng.random(n) < 0.3,
        cal.campaign_first - 3 + rng.integers(0, 5, n),
        cal.enroll_first + rng.integers(0, cal.campaign_last - cal.enroll_first + 1, n),
    )
    after = group == G_AFTER
    day[after] = (
        cal.campaign_last
        + 1
        + rng.integers(0, cal.after_campaign_last - cal.campaign_last, after.sum())
    )
    seconds = day_start(day) + time_of_day(rng, n, midnight_share=0.05)
    return np.where(group == G_NONE, -1, seconds).astype(np.int64)


def enrollment_rows(rng: np.random.Generator, acc: Accounts) -> list[dict[str, str]]:
    """One row per enrollment; ~10% of accounts enroll again later (ignored by R10)."""
    enrolled = np.flatnonzero(acc.enrolled_at >= 0)
    via = acc.kind[enrolled].copy()
    wrong = acc.group[enrolled] == G_WRONG_VIA
    via[wrong] = 1 - via[wrong]
    again = rng.random(len(enrolled)) < 0.10
    again_at = acc.enrolled_at[enrolled] + rng.integers(3600, 20 * DAY, len(enrolled))
    again_via = rng.integers(0, 2, len(enrolled))
    events = [(int(acc.enrolled_at[a]), int(a), int(v)) for a, v in zip(enrolled, via, strict=True)]
    events += [
        (int(t), int(a), int(v))
        for a, t, v, yes in zip(enrolled, again_at, again_via, again, strict=True)
        if yes
    ]
    width = id_width("acct-", acc.n)
    return [
        {
            "account_id": f"acct-{a + 1:0{width}d}",
            "enrolled_at": fmt_ts(t, beijing=i % 3 == 0),
            "enrolled_via": ENROLLED_VIA[v],
        }
        for i, (t, a, v) in enumerate(sorted(events))
    ]


def snapshot_table(cal: Calendar, rng: np.random.Generator, acc: Accounts) -> pa.Table:
    """Roughly weekly snapshots from each account's first one, a quarter of them missing;
    followers grow (or shrink) smoothly, so accounts cross quota tiers over time."""
    slots = (cal.snap_last - cal.snap_first) // 7 + 2
    j = np.arange(slots)
    days = (
        acc.first_snapshot[:, None] + 7 * j + np.where(j > 0, rng.integers(0, 3, (acc.n, slots)), 0)
    )
    keep = ((j == 0) | (rng.random((acc.n, slots)) < 0.75)) & (days <= cal.snap_last)
    account, slot = np.nonzero(keep)
    day = days[account, slot]
    order = np.lexsort((account, day))
    account, day = account[order], day[order]
    growth = np.exp(acc.growth[account] * (day - acc.ref_day[account]) / 30)
    noise = 1 + rng.normal(0, 0.01, len(day))
    followers = np.maximum(0, np.rint(acc.followers_ref[account] * growth * noise))
    forced_flat = acc.growth[account] == 0  # forced accounts keep their exact tier
    followers[forced_flat] = np.rint(acc.followers_ref[account[forced_flat]])
    return pa.table(
        {
            "snapshot_date": pa.array(day.astype(np.int32), type=pa.date32()),
            "account_id": ids("acct-", account + 1, id_width("acct-", acc.n)),
            "account_type": categories(ACCOUNT_TYPES, acc.kind[account]),
            "follower_count": pa.array(followers.astype(np.int64)),
            "short_video_commerce_enabled": pa.array(day >= acc.enabled_from[account]),
            "is_shop_self_operated": pa.array(acc.self_operated[account]),
        }
    )
