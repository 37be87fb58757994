"""Synthetic landing data for the short-video incentive plan: realistic, deterministic and fast.

Why a generator: the warehouse has to be exercised at production scale (10M orders) and on every
edge the rulebook names -- Beijing-midnight boundaries (R1), order change logs (R2), late and
partial settlements (R3), over-quota posting days (R6), new entrants (R8) and each ineligibility
reason (R10) -- without real merchant data. `generate_landing` writes one landing directory in
the data contract's format; with `dirty=True` it also writes rows that each break exactly one
rule, and records how many quarantine rows the pipeline must report per reason (R12).

Design choices:
* Everything is drawn from one seeded numpy Generator in a fixed order, and Parquet is written
  with fixed options, so the same arguments give byte-identical files.
* Work is vectorised numpy over whole datasets; ids are formatted into Arrow string buffers
  directly; the orders change log is held as compact integer arrays and only turned into Arrow
  tables one output file (one Beijing day) at a time, which keeps 10M orders well under 2 GB.
* The calendar below is the *generator's* world (when activity happens). The rule parameters
  themselves live in dbt vars; the generator only needs to straddle them with data.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .defs.landing.contract import DATASETS as CONTRACT
from .defs.landing.contract import all_reasons

Progress = Callable[[str, int, int], None]

# ----------------------------------------------------------------------------- calendar

DAY = 86_400
BJ_OFFSET = 8 * 3600
BEIJING = timezone(timedelta(hours=8))
_EPOCH = date(1970, 1, 1)


def bj_day(iso: str) -> int:
    """Days since 1970-01-01 of a Beijing calendar date (`YYYY-MM-DD`)."""
    return (date.fromisoformat(iso) - _EPOCH).days


def day_start(day: int | np.ndarray) -> int | np.ndarray:
    """UTC epoch seconds of Beijing midnight starting `day` (UTC 16:00 the day before)."""
    return day * DAY - BJ_OFFSET


def day_of(seconds: int | np.ndarray) -> int | np.ndarray:
    """Beijing day (days since epoch) of UTC epoch seconds (R1)."""
    return (seconds + BJ_OFFSET) // DAY


SNAP_FIRST, SNAP_LAST = bj_day("2025-07-01"), bj_day("2026-01-10")
VIDEO_FIRST, VIDEO_LAST = bj_day("2025-07-01"), bj_day("2025-12-31")
ORDER_FIRST, ORDER_LAST = bj_day("2025-08-01"), bj_day("2026-01-10")
BASELINE_LAST = bj_day("2025-10-31")
NEW_ENTRANT_FROM = bj_day("2025-11-01")  # new entrants sell nothing before this day
NEW_ENTRANT_VIDEOS_FROM = bj_day("2025-10-10")
CAMPAIGN_FIRST, CAMPAIGN_LAST = bj_day("2025-11-22"), bj_day("2025-12-31")
ENROLL_FIRST = bj_day("2025-11-01")
AFTER_CAMPAIGN_LAST = bj_day("2026-01-10")
FOLLOWER_REF_DAY = bj_day("2025-11-20")  # non-enrolled accounts' follower tier is set here
DOUBLE_11, DOUBLE_12 = bj_day("2025-11-11"), bj_day("2025-12-12")
# Data are "extracted" at this instant: later order events have not happened yet.
HORIZON = day_start(bj_day("2026-03-01"))
# First days of periods (baseline, day after it, campaign, day after it): orders are pinned to
# both sides of these Beijing midnights so R1 mistakes (UTC days) change results.
BOUNDARY_DAYS = (ORDER_FIRST, BASELINE_LAST + 1, CAMPAIGN_FIRST, CAMPAIGN_LAST + 1)
SETTLEMENT_BOUNDARY = bj_day("2026-02-01")  # the day after the settlement cutoff
TS_BASE = day_start(bj_day("2025-01-01"))  # offset for packing (account, time) into one int64

# Beijing hour-of-day activity profile: quiet nights, evening peak.
HOUR_WEIGHTS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 6, 6, 7, 8, 10, 12, 13, 11, 6], dtype=float
)
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()

# ----------------------------------------------------------------------------- vocabulary

CHANNELS = ("short_video", "live", "showcase", "other")
SHORT_VIDEO, LIVE = 0, 1
OTHER_CHANNEL_P = np.array([0.55, 0.30, 0.15])  # live, showcase, other among non-video orders
STATUSES = ("paid", "settled", "refunded", "cancelled")
ACCOUNT_TYPES = ("merchant", "promoter")
MERCHANT, PROMOTER = 0, 1
ENROLLED_VIA = ("shop_account", "channels_account")  # index = the account type that uses it

# Change-log row kinds and the status each one carries.
PAID, PARTIAL, SETTLED, REFUNDED, CANCELLED = range(5)
KIND_STATUS = np.array([0, 0, 1, 2, 3], dtype=np.int8)

# Order lifecycles (paid -> ...) and their shares.
LIFE_SETTLE, LIFE_PARTIAL, LIFE_REFUND, LIFE_SETTLE_REFUND, LIFE_CANCEL, LIFE_STUCK = range(6)
LIFE_P = np.array([0.835, 0.04, 0.07, 0.01, 0.03, 0.015])

# Enrollment groups: which R10 outcome an account is built for (below-threshold arises from
# followers, so it is not a group).
G_NONE, G_OK, G_AFTER, G_NO_SNAPSHOT, G_WRONG_VIA, G_DISABLED = range(6)
GROUP_P = np.array([0.15, 0.65, 0.05, 0.05, 0.05, 0.05])

# Quota tiers of the rulebook (R6), used here only to spread accounts over them.
TIER_P = np.array([0.25, 0.35, 0.28, 0.12])
TIER_LOW = np.array([5, 1_000, 10_000, 100_000], dtype=float)
TIER_HIGH = np.array([999, 9_999, 99_999, 0], dtype=float)  # top tier is Pareto-tailed
TIER_VOLUME = np.array([0.5, 1.0, 2.5, 6.0])  # bigger audiences sell more
TIER_QUOTA = np.array([1, 2, 5, 10])  # creators mostly post within their daily quota
POSTING_RATE = 0.2  # average videos per day as a share of the quota
BURST_SIZE = (11, 15)  # commerce videos in one burst day: beyond every tier's quota (max 10)

ID_WIDTH = {"acct-": 6, "vid-": 8, "ord-": 10}

# The contract's datasets and column order, from the one place they are declared.
DATASETS = tuple(CONTRACT)
COLUMNS = {name: tuple(dataset.column_names) for name, dataset in CONTRACT.items()}
TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)

# Quarantine reasons the dirty mode injects (loader row checks, then dbt rule checks).
ROW_REASONS = tuple(all_reasons())
RULE_REASONS = (
    "order_version_conflict", "video_not_found", "video_not_commerce", "video_of_other_account",
)


# ----------------------------------------------------------------------------- small helpers


def _time_of_day(rng: np.random.Generator, n: int, midnight_share: float) -> np.ndarray:
    """Seconds after Beijing midnight: evening-peaked, with a share within 90 s of midnight
    (either side) so day assignment (R1) is exercised everywhere."""
    tod = rng.choice(24, n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
    near = rng.random(n) < midnight_share
    late = rng.random(n) < 0.5
    jitter = rng.integers(0, 90, n)
    tod = np.where(near & late, DAY - 1 - jitter, np.where(near, jitter, tod))
    return tod.astype(np.int64)


def _log_uniform(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high)))


def _id_width(prefix: str, largest: int) -> int:
    return max(ID_WIDTH[prefix], len(str(largest)))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """`prefix` + zero-padded `numbers`, built straight into an Arrow buffer (no Python loop)."""
    n = len(numbers)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    buf = np.empty((n, len(head) + width), dtype=np.uint8)
    buf[:, : len(head)] = head
    buf[:, len(head):] = (numbers.astype(np.int64)[:, None] // powers) % 10 + ord("0")
    offsets = np.arange(0, (n + 1) * buf.shape[1], buf.shape[1], dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def _nullable(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """`values` with nulls where `valid` is false."""
    if valid.all():
        return values
    return pa.Array.from_buffers(
        values.type, len(values), [pa.array(valid).buffers()[1], *values.buffers()[1:]]
    )


def _money(cents: np.ndarray) -> pa.Array:
    """decimal128(18,2) from integer cents, exact (money never passes through floats)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension into the high 64 bits
    return pa.Array.from_buffers(MONEY, len(cents), [None, pa.py_buffer(words)])


def _timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=TS, mask=mask)


def _categories(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(names).take(pa.array(codes.astype(np.int32)))


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Fixed writer options: same table -> same bytes."""
    pq.write_table(
        table, path, compression="zstd", compression_level=3, row_group_size=1 << 20,
        use_dictionary=True, write_statistics=True, version="2.6",
    )


def _fmt_ts(seconds: int, beijing: bool) -> str:
    """ISO-8601 instant for CSV, as UTC `Z` or with the `+08:00` offset."""
    if beijing:
        return datetime.fromtimestamp(int(seconds), BEIJING).isoformat()
    moment = datetime.fromtimestamp(int(seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fmt_day(day: int) -> str:
    return (_EPOCH + timedelta(days=int(day))).isoformat()


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _month_groups(days: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(`YYYY-MM`, row indices) per Beijing month of `days`, in calendar order."""
    months = np.array([_fmt_day(d)[:7] for d in range(int(days.min()), int(days.max()) + 1)])
    labels = months[days - days.min()]
    for month in np.unique(labels):
        yield str(month), np.flatnonzero(labels == month)


# ----------------------------------------------------------------------------- accounts


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
LAST_MINUTE = day_start(CAMPAIGN_LAST + 1) - 1


def _make_accounts(rng: np.random.Generator, n: int) -> Accounts:
    tier = rng.choice(4, n, p=TIER_P)
    group = rng.choice(6, n, p=GROUP_P)
    merchant = rng.random(n) < 0.35
    self_operated = merchant & (rng.random(n) < 0.3)
    new_entrant = rng.random(n) < 0.15
    growth = rng.normal(0.04, 0.06, n)
    followers = np.where(
        tier == 3,
        np.minimum(TIER_LOW[3] * (rng.pareto(1.3, n) + 1), 50_000_000),
        _log_uniform(rng, TIER_LOW[tier], np.maximum(TIER_HIGH[tier], TIER_LOW[tier] + 1)),
    )
    forced = rng.permutation(n)[: len(FORCED_ACCOUNTS)]
    for i, (t, g, m, s, ne, f) in zip(forced, FORCED_ACCOUNTS, strict=False):
        tier[i], group[i], merchant[i], self_operated[i] = t, g, m, s
        new_entrant[i], followers[i], growth[i] = ne, f, 0.0
    weight = (rng.pareto(1.2, n) + 1) * TIER_VOLUME[tier]

    enrolled_at = _enrollment_times(rng, group)
    enrolled_at[forced[-2]] = LAST_MINUTE
    enrolled_at[forced[-1]] = LAST_MINUTE + 1
    enroll_day = np.where(enrolled_at >= 0, day_of(enrolled_at), 10**6)

    first_snapshot = np.where(
        new_entrant,
        bj_day("2025-10-01") + rng.integers(0, 25, n),
        SNAP_FIRST + rng.integers(0, 21, n),
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
        ref_day=np.where(enrolled_at >= 0, enroll_day, FOLLOWER_REF_DAY),
        weight=weight,
        amount_scale=rng.lognormal(0.0, 0.5, n),
        short_video_share=np.clip(rng.normal(0.6, 0.15, n), 0.05, 0.95),
        new_entrant=new_entrant,
        group=group.astype(np.int8),
        enrolled_at=enrolled_at,
        first_snapshot=first_snapshot,
        enabled_from=enabled_from,
    )


def _enrollment_times(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """First enrollment instants: a rush around the campaign start, late ones in January."""
    n = len(group)
    day = np.where(
        rng.random(n) < 0.3,
        CAMPAIGN_FIRST - 3 + rng.integers(0, 5, n),
        ENROLL_FIRST + rng.integers(0, CAMPAIGN_LAST - ENROLL_FIRST + 1, n),
    )
    after = group == G_AFTER
    day[after] = CAMPAIGN_LAST + 1 + rng.integers(0, AFTER_CAMPAIGN_LAST - CAMPAIGN_LAST,
                                                  after.sum())
    seconds = day_start(day) + _time_of_day(rng, n, midnight_share=0.05)
    return np.where(group == G_NONE, -1, seconds).astype(np.int64)


def _enrollment_rows(rng: np.random.Generator, acc: Accounts) -> list[dict[str, str]]:
    """One row per enrollment; ~10% of accounts enroll again later (ignored by R10)."""
    enrolled = np.flatnonzero(acc.enrolled_at >= 0)
    via = acc.kind[enrolled].copy()
    wrong = acc.group[enrolled] == G_WRONG_VIA
    via[wrong] = 1 - via[wrong]
    again = rng.random(len(enrolled)) < 0.10
    again_at = acc.enrolled_at[enrolled] + rng.integers(3600, 20 * DAY, len(enrolled))
    again_via = rng.integers(0, 2, len(enrolled))
    events = [(int(acc.enrolled_at[a]), int(a), int(v)) for a, v in zip(enrolled, via,
                                                                         strict=True)]
    events += [
        (int(t), int(a), int(v))
        for a, t, v, yes in zip(enrolled, again_at, again_via, again, strict=True) if yes
    ]
    width = _id_width("acct-", acc.n)
    return [
        {
            "account_id": f"acct-{a + 1:0{width}d}",
            "enrolled_at": _fmt_ts(t, beijing=i % 3 == 0),
            "enrolled_via": ENROLLED_VIA[v],
        }
        for i, (t, a, v) in enumerate(sorted(events))
    ]


# ----------------------------------------------------------------------------- snapshots


def _snapshot_table(rng: np.random.Generator, acc: Accounts) -> pa.Table:
    """Roughly weekly snapshots from each account's first one, a quarter of them missing;
    followers grow (or shrink) smoothly, so accounts cross quota tiers over time."""
    slots = (SNAP_LAST - SNAP_FIRST) // 7 + 2
    j = np.arange(slots)
    days = acc.first_snapshot[:, None] + 7 * j + np.where(
        j > 0, rng.integers(0, 3, (acc.n, slots)), 0
    )
    keep = ((j == 0) | (rng.random((acc.n, slots)) < 0.75)) & (days <= SNAP_LAST)
    account, slot = np.nonzero(keep)
    day = days[account, slot]
    order = np.lexsort((account, day))
    account, day = account[order], day[order]
    growth = np.exp(acc.growth[account] * (day - acc.ref_day[account]) / 30)
    noise = 1 + rng.normal(0, 0.01, len(day))
    followers = np.maximum(0, np.rint(acc.followers_ref[account] * growth * noise))
    forced_flat = acc.growth[account] == 0  # forced accounts keep their exact tier
    followers[forced_flat] = np.rint(acc.followers_ref[account[forced_flat]])
    return pa.table({
        "snapshot_date": pa.array(day.astype(np.int32), type=pa.date32()),
        "account_id": _ids("acct-", account + 1, _id_width("acct-", acc.n)),
        "account_type": _categories(ACCOUNT_TYPES, acc.kind[account]),
        "follower_count": pa.array(followers.astype(np.int64)),
        "short_video_commerce_enabled": pa.array(day >= acc.enabled_from[account]),
        "is_shop_self_operated": pa.array(acc.self_operated[account]),
    })


# ----------------------------------------------------------------------------- videos


@dataclass
class Videos:
    """Videos sorted by id (index i is `vid-{i+1}`, ids follow publication time)."""

    account: np.ndarray
    published: np.ndarray
    commerce: np.ndarray
    deleted: np.ndarray  # seconds, -1 when not deleted

    @property
    def n(self) -> int:
        return len(self.account)


def _make_videos(rng: np.random.Generator, acc: Accounts, target: int) -> Videos:
    """Videos per account grow with its sales but stay mostly within its posting quota, so
    over-quota days (R6) are the exception; bursts make sure some exist."""
    no_snapshot = acc.group == G_NO_SNAPSHOT  # counted as 0 followers until its first snapshot
    first_day = np.where(no_snapshot, VIDEO_FIRST, np.maximum(acc.first_snapshot, VIDEO_FIRST))
    first_day = np.where(acc.new_entrant, np.maximum(first_day, NEW_ENTRANT_VIDEOS_FROM),
                         first_day)
    quota = np.where(no_snapshot, TIER_QUOTA[0], TIER_QUOTA[acc.tier])
    share = acc.weight**0.6
    capacity = POSTING_RATE * quota * (VIDEO_LAST - first_day + 1)
    per_account = np.maximum(3, np.rint(np.minimum(target * share / share.sum(), capacity)))
    account = np.repeat(np.arange(acc.n), per_account.astype(np.int64))
    n = len(account)
    start = first_day[account]
    day = start + (rng.random(n) * (VIDEO_LAST - start + 1)).astype(np.int64)
    boost = rng.random(n) < 0.3  # more posting during the campaign
    day = np.where(boost, CAMPAIGN_FIRST + rng.integers(0, CAMPAIGN_LAST - CAMPAIGN_FIRST + 1, n),
                   day)
    published = day_start(day) + _time_of_day(rng, n, midnight_share=0.01)
    commerce = rng.random(n) < 0.75

    b_account, b_published = _burst_videos(rng, acc)
    account = np.concatenate([account, b_account])
    published = np.concatenate([published, b_published])
    commerce = np.concatenate([commerce, np.ones(len(b_account), dtype=bool)])

    n = len(account)
    deleted = np.full(n, -1, dtype=np.int64)
    gone = rng.random(n) < 0.08
    lifetime = rng.exponential(15 * DAY, n).astype(np.int64)
    lifetime[rng.random(n) < 0.02] = 0  # deleted the second it was posted: still >= published
    deleted[gone] = published[gone] + lifetime[gone]

    order = np.lexsort((rng.random(n), published))
    return Videos(account[order].astype(np.int32), published[order], commerce[order],
                  deleted[order])


def _burst_videos(rng: np.random.Generator, acc: Accounts) -> tuple[np.ndarray, np.ndarray]:
    """Account-days with more commerce videos than any quota (R6), some sharing a second so the
    video_id tie-break matters; half in the campaign, the rest in the baseline when possible."""
    n_bursts = max(4, acc.n // 30)
    accounts = rng.choice(acc.n, n_bursts, replace=False)
    in_campaign = (np.arange(n_bursts) % 2 == 0) | acc.new_entrant[accounts]
    day = np.where(
        in_campaign,
        CAMPAIGN_FIRST + rng.integers(0, CAMPAIGN_LAST - CAMPAIGN_FIRST + 1, n_bursts),
        ORDER_FIRST + rng.integers(0, BASELINE_LAST - ORDER_FIRST + 1, n_bursts),
    )
    sizes = rng.integers(*BURST_SIZE, n_bursts)
    owner = np.repeat(accounts, sizes)
    first = np.repeat(day_start(day) + 9 * 3600 + rng.integers(0, 3600, n_bursts), sizes)
    gaps = np.where(rng.random(len(owner)) < 0.2, 0, rng.integers(60, 2400, len(owner)))
    running = np.cumsum(gaps)
    offset = running - np.repeat(running[np.cumsum(sizes) - sizes], sizes)  # 0 at burst start
    return owner, first + offset


def _video_table(videos: Videos, rows: np.ndarray, n_accounts: int) -> pa.Table:
    return pa.table({
        "video_id": _ids("vid-", rows + 1, _id_width("vid-", videos.n)),
        "account_id": _ids("acct-", videos.account[rows] + 1, _id_width("acct-", n_accounts)),
        "published_at": _timestamps(videos.published[rows]),
        "is_commerce": pa.array(videos.commerce[rows]),
        "deleted_at": _timestamps(videos.deleted[rows], videos.deleted[rows] >= 0),
    })


# ----------------------------------------------------------------------------- orders


@dataclass
class Orders:
    """One entry per order (index i is `ord-{i+1}`, ids follow creation time)."""

    created: np.ndarray
    account: np.ndarray
    channel: np.ndarray
    video: np.ndarray  # -1 when not a short-video order
    amount: np.ndarray  # cents
    partial: np.ndarray  # cents refunded before settlement, 0 when none
    settled: np.ndarray  # settlement instant, 0 when never settled
    life: np.ndarray


@dataclass
class ChangeLog:
    """Order versions sorted by `updated_at`: which order, which kind of version, when."""

    order: np.ndarray
    kind: np.ndarray
    updated: np.ndarray
    skip: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _daily_weights(days: np.ndarray) -> np.ndarray:
    """Order volume per Beijing day: growth trend, weekends, Double-11/12 peaks, campaign."""
    w = 1 + 0.5 * (days - days[0]) / len(days)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
    w = w * np.where(weekday >= 5, 1.15, 1.0)
    w = w * np.where((days >= DOUBLE_11 - 21) & (days < DOUBLE_11), 1.3, 1.0)
    w = w * np.where(days == DOUBLE_11, 6.0, np.where(np.abs(days - DOUBLE_11) == 1, 1.8, 1.0))
    w = w * np.where(days == DOUBLE_12, 3.5, np.where(np.abs(days - DOUBLE_12) == 1, 1.5, 1.0))
    w = w * np.where((days >= CAMPAIGN_FIRST) & (days <= CAMPAIGN_LAST), 1.25, 1.0)
    w = w * np.where(days > CAMPAIGN_LAST, 0.8, 1.0)
    return w / w.sum()


def _created_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted creation instants, with orders pinned right before and after period midnights."""
    days = np.arange(ORDER_FIRST, ORDER_LAST + 1)
    per_day = rng.multinomial(n, _daily_weights(days))
    day = np.repeat(days, per_day)
    tod = _time_of_day(rng, n, midnight_share=0.004)
    first_of_day = np.cumsum(per_day) - per_day
    for boundary in BOUNDARY_DAYS:
        for d, pinned in ((boundary, (0, 1)), (boundary - 1, (DAY - 1, DAY - 2))):
            i = d - ORDER_FIRST
            if 0 <= i < len(days):
                count = min(len(pinned), int(per_day[i]))
                tod[first_of_day[i]: first_of_day[i] + count] = pinned[:count]
    return np.sort(day_start(day) + tod)


def _pick_accounts(rng: np.random.Generator, acc: Accounts, created: np.ndarray) -> np.ndarray:
    """Heavy-tailed account per order; new entrants only from NEW_ENTRANT_FROM (R8)."""
    u = rng.random(len(created))
    late = day_of(created) >= NEW_ENTRANT_FROM
    out = np.empty(len(created), dtype=np.int32)
    for mask, weight in ((late, acc.weight), (~late, np.where(acc.new_entrant, 0, acc.weight))):
        cdf = np.cumsum(weight) / weight.sum()
        out[mask] = np.minimum(np.searchsorted(cdf, u[mask], side="right"), acc.n - 1)
    return out


def _pick_videos(
    rng: np.random.Generator, videos: Videos, account: np.ndarray, created: np.ndarray
) -> np.ndarray:
    """A commerce video of the order's account published on or before the order (R4), recent
    ones favoured; -1 when the account had none yet."""
    commerce = np.flatnonzero(videos.commerce)
    keys = (videos.account[commerce].astype(np.int64) << 32) + (videos.published[commerce]
                                                                 - TS_BASE)
    order = np.argsort(keys, kind="stable")
    keys, commerce = keys[order], commerce[order]
    acct_key = account.astype(np.int64) << 32
    end = np.searchsorted(keys, acct_key + (created - TS_BASE), side="right")
    available = end - np.searchsorted(keys, acct_key, side="left")
    back = (available * rng.random(len(account)) ** 3).astype(np.int64)
    pick = np.clip(end - 1 - back, 0, max(len(commerce) - 1, 0))
    return np.where(available > 0, commerce[pick] if len(commerce) else -1, -1).astype(np.int32)


def _make_orders(rng: np.random.Generator, acc: Accounts, videos: Videos, n: int) -> Orders:
    created = _created_times(rng, n)
    account = _pick_accounts(rng, acc, created)
    wants_video = rng.random(n) < acc.short_video_share[account]
    video = _pick_videos(rng, videos, account, created)
    other = 1 + rng.choice(3, n, p=OTHER_CHANNEL_P)
    channel = np.where(wants_video & (video >= 0), SHORT_VIDEO, other).astype(np.int8)
    video = np.where(channel == SHORT_VIDEO, video, -1).astype(np.int32)

    channel_scale = np.array([1.0, 1.3, 0.9, 0.7])[channel]
    yuan = rng.lognormal(np.log(69), 1.1, n) * acc.amount_scale[account] * channel_scale
    amount = np.clip(np.rint(yuan * 100), 1, 99_999_999).astype(np.int64)
    ninety = (rng.random(n) < 0.3) & (amount >= 100)  # "x.90" shop prices
    amount[ninety] = amount[ninety] // 100 * 100 + 90

    life = rng.choice(len(LIFE_P), n, p=LIFE_P).astype(np.int8)
    life[(life == LIFE_PARTIAL) & (amount < 2)] = LIFE_SETTLE
    partial = np.where(
        life == LIFE_PARTIAL,
        np.clip((amount * rng.uniform(0.05, 0.8, n)).astype(np.int64), 1, amount - 1),
        0,
    )
    settles = np.isin(life, (LIFE_SETTLE, LIFE_PARTIAL, LIFE_SETTLE_REFUND))
    settled = np.where(settles, _settlement_times(rng, created), 0)
    # The last plain settlements straddle the cutoff midnight to the second (R3).
    last = np.flatnonzero(life == LIFE_SETTLE)[-4:]
    settled[last] = day_start(SETTLEMENT_BOUNDARY) - 1 + np.arange(len(last)) % 2
    return Orders(created, account, channel, video, amount, partial, settled, life)


def _settlement_times(rng: np.random.Generator, created: np.ndarray) -> np.ndarray:
    """7-20 days after payment (3% late: 25-60 days), mostly in the nightly batch right after
    Beijing midnight, some at 23:59 -- so settlements straddle the cutoff day (R3)."""
    n = len(created)
    delay = np.where(rng.random(n) < 0.03, rng.integers(25, 61, n), rng.integers(7, 21, n))
    u = rng.random(n)
    tod = np.where(
        u < 0.45, rng.integers(0, 7200, n),
        np.where(u < 0.5, DAY - 1 - rng.integers(0, 60, n), _time_of_day(rng, n, 0.0)),
    )
    return day_start(day_of(created) + delay) + tod


def _change_log(rng: np.random.Generator, orders: Orders) -> ChangeLog:
    """Every order's versions: paid at creation, then partial refund / settlement / refund /
    cancellation as its lifecycle says; events after the extraction horizon are not there yet."""
    n = len(orders.created)
    idx = np.arange(n, dtype=np.int32)
    life, created = orders.life, orders.created
    partial_at = created + rng.integers(DAY, 5 * DAY, n)
    refund_at = np.where(
        life == LIFE_SETTLE_REFUND,
        orders.settled + rng.integers(DAY, 10 * DAY, n),
        created + rng.integers(DAY // 2, 10 * DAY, n),
    )
    cancel_at = created + rng.integers(60, 7200, n)
    parts = [
        (idx, PAID, created),
        (idx[life == LIFE_PARTIAL], PARTIAL, partial_at[life == LIFE_PARTIAL]),
        (idx[orders.settled > 0], SETTLED, orders.settled[orders.settled > 0]),
    ]
    refunds = (life == LIFE_REFUND) | (life == LIFE_SETTLE_REFUND)
    parts += [(idx[refunds], REFUNDED, refund_at[refunds]),
              (idx[life == LIFE_CANCEL], CANCELLED, cancel_at[life == LIFE_CANCEL])]
    order = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int8) for p in parts])
    updated = np.concatenate([p[2] for p in parts])
    keep = updated < HORIZON
    order, kind, updated = order[keep], kind[keep], updated[keep]
    sort = np.argsort(updated, kind="stable")
    return ChangeLog(order[sort], kind[sort], updated[sort], np.zeros(len(sort), dtype=bool))


def _order_table(orders: Orders, log: ChangeLog, rows: np.ndarray, widths: dict[str, int]
                 ) -> pa.Table:
    """Arrow table of change-log rows `rows` (indices into `log`)."""
    o, kind = log.order[rows], log.kind[rows]
    amount = orders.amount[o]
    refunded = np.select(
        [kind == PARTIAL, kind == SETTLED, kind == REFUNDED], [orders.partial[o],
                                                               orders.partial[o], amount], 0
    )
    settled = orders.settled[o]
    has_settled = ((kind == SETTLED) | (kind == REFUNDED)) & (settled > 0)
    video = orders.video[o]
    return pa.table({
        "order_id": _ids("ord-", o + 1, widths["ord-"]),
        "updated_at": _timestamps(log.updated[rows]),
        "account_id": _ids("acct-", orders.account[o] + 1, widths["acct-"]),
        "channel": _categories(CHANNELS, orders.channel[o]),
        "video_id": _nullable(_ids("vid-", np.maximum(video, 0) + 1, widths["vid-"]),
                              video >= 0),
        "created_at": _timestamps(orders.created[o]),
        "amount": _money(amount),
        "refunded_amount": _money(refunded.astype(np.int64)),
        "status": _categories(STATUSES, KIND_STATUS[kind]),
        "settled_at": _timestamps(settled, has_settled),
    })


def _order_csv_row(table: pa.Table, i: int, beijing: bool) -> dict[str, str]:
    """CSV text of row `i` of an orders table, typed exactly like the Parquet original."""
    row = {c: table.column(c)[i].as_py() for c in table.column_names}
    out = {}
    for name, value in row.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, datetime):
            out[name] = _fmt_ts(int(value.timestamp()), beijing)
        elif name in ("amount", "refunded_amount"):
            out[name] = f"{value:.2f}"
        else:
            out[name] = str(value)
    return out


def _write_orders(out: Path, orders: Orders, log: ChangeLog, widths: dict[str, int],
                  progress: Progress | None) -> tuple[int, int]:
    """One Parquet file per Beijing day of `updated_at`; returns (files, rows) written."""
    days = day_of(log.updated)
    first, last = int(days[0]), int(days[-1])
    bounds = np.searchsorted(log.updated, day_start(np.arange(first, last + 2)))
    files = rows_written = 0
    total = last - first + 1
    for i, d in enumerate(range(first, last + 1)):
        rows = np.arange(bounds[i], bounds[i + 1])
        rows = rows[~log.skip[rows]]
        if len(rows):
            table = _order_table(orders, log, rows, widths)
            _write_parquet(table, out / f"orders_{_fmt_day(d)}.parquet")
            files += 1
            rows_written += len(rows)
        if progress:
            progress("orders", i + 1, total)
    return files, rows_written


# ----------------------------------------------------------------------------- dirty rows


@dataclass
class Dirty:
    """Rows to land as CSV per dataset, and the quarantine rows they must produce (R12)."""

    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {name: [] for name in DATASETS}
    )
    expected: Counter = field(default_factory=Counter)
    counters: Counter = field(default_factory=Counter)

    def fresh(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]:06d}"

    def add(self, dataset: str, row: dict[str, str], reason: str | None, count: int = 1) -> None:
        self.rows[dataset].append({c: row.get(c, "") for c in COLUMNS[dataset]})
        if reason:
            self.expected[reason] += count


def _dirty_count(n_orders: int) -> int:
    """Injections per kind: 3 for tiny runs, up to 20 for huge ones."""
    return int(min(20, max(3, round(3 * np.log10(max(n_orders, 1) / 100)))))


def _ts(seconds: int, i: int) -> str:
    return _fmt_ts(seconds, beijing=i % 2 == 1)


T_NOV = day_start(bj_day("2025-11-25")) + 12 * 3600  # an ordinary campaign-day instant


def _base_snapshot(d: Dirty) -> dict[str, str]:
    return {"snapshot_date": "2025-11-20", "account_id": d.fresh("bad-acct-"),
            "account_type": "promoter", "follower_count": "1234",
            "short_video_commerce_enabled": "true", "is_shop_self_operated": "false"}


def _base_enrollment(d: Dirty, i: int) -> dict[str, str]:
    return {"account_id": d.fresh("bad-acct-"), "enrolled_at": _ts(T_NOV, i),
            "enrolled_via": "channels_account"}


def _base_video(d: Dirty, i: int) -> dict[str, str]:
    return {"video_id": d.fresh("bad-vid-"), "account_id": d.fresh("bad-acct-"),
            "published_at": _ts(T_NOV + i * 60, i), "is_commerce": "true", "deleted_at": ""}


def _base_order(d: Dirty, i: int, account: str, created: int | None = None,
                settled: bool = False) -> dict[str, str]:
    """A valid single-row live order with a fresh id, to be broken in exactly one place; when
    `settled`, it is the settlement version ten days later (updated_at = settled_at)."""
    created = T_NOV + i * 3600 if created is None else created
    row = {"order_id": d.fresh("bad-ord-"), "updated_at": _ts(created, i),
           "account_id": account, "channel": "live", "video_id": "",
           "created_at": _ts(created, i + 1), "amount": "88.00", "refunded_amount": "0.00",
           "status": "paid", "settled_at": ""}
    if settled:
        row["updated_at"] = row["settled_at"] = _ts(created + 10 * DAY, i)
        row["status"] = "settled"
    return row


def _row_level_defects(d: Dirty, k: int, account: str, video: str) -> None:
    """`k` rows per contract reason, spread over the datasets, one defect per row."""
    variants: dict[str, list[Callable[[int], tuple[str, dict[str, str]]]]] = {
        "missing_required_value": [
            lambda i: ("orders", {**_base_order(d, i, account), "amount": ""}),
            lambda i: ("enrollments", {**_base_enrollment(d, i), "enrolled_at": ""}),
            lambda i: ("account_snapshots", {**_base_snapshot(d), "is_shop_self_operated": ""}),
            lambda i: ("videos", {**_base_video(d, i), "is_commerce": ""}),
        ],
        "unparseable_value": [
            lambda i: ("orders", {**_base_order(d, i, account), "amount": "12.345"}),
            lambda i: ("account_snapshots", {**_base_snapshot(d), "follower_count": "1.5k"}),
            lambda i: ("orders", {**_base_order(d, i, account), "amount": "abc"}),
            lambda i: ("account_snapshots", {**_base_snapshot(d), "snapshot_date": "2025-13-45"}),
            lambda i: ("videos", {**_base_video(d, i), "is_commerce": "yes"}),
            lambda i: ("enrollments", {**_base_enrollment(d, i), "enrolled_at": "not-a-time"}),
            lambda i: ("orders", {**_base_order(d, i, account), "created_at": "not-a-time"}),
        ],
        "timestamp_without_zone": [
            lambda i: ("orders", {**_base_order(d, i, account),
                                  "created_at": "2025-11-22T10:00:00"}),
            lambda i: ("videos", {**_base_video(d, i), "published_at": "2025-11-23T21:15:00"}),
            lambda i: ("enrollments", {**_base_enrollment(d, i),
                                       "enrolled_at": "2025-11-22T09:30:00"}),
        ],
        "invalid_category": [
            lambda i: ("orders", {**_base_order(d, i, account), "channel": "livestream"}),
            lambda i: ("orders", {**_base_order(d, i, account), "status": "shipped"}),
            lambda i: ("account_snapshots", {**_base_snapshot(d), "account_type": "brand"}),
            lambda i: ("enrollments", {**_base_enrollment(d, i), "enrolled_via": "web"}),
        ],
        # amount 0 with refunded 0 breaks nothing else (a negative amount would also make
        # refunded_amount > amount).
        "non_positive_amount": [
            lambda i: ("orders", {**_base_order(d, i, account), "amount": ("0.00", "0", "0.0")[
                i % 3]}),
        ],
        "refund_out_of_range": [
            lambda i: ("orders", {**_base_order(d, i, account), "status": "refunded",
                                  "refunded_amount": "88.01"}),
            lambda i: ("orders", {**_base_order(d, i, account), "refunded_amount": "-1.00"}),
        ],
        "settled_without_settled_at": [
            lambda i: ("orders", {**_base_order(d, i, account, settled=True),
                                  "settled_at": ""}),
        ],
        "settled_before_created": [
            lambda i: ("orders", {**_base_order(d, i, account, settled=True),
                                  "settled_at": _ts(T_NOV + i * 3600 - 1, i)}),
        ],
        "short_video_without_video_id": [
            lambda i: ("orders", {**_base_order(d, i, account), "channel": "short_video"}),
        ],
        "video_id_on_other_channel": [
            lambda i: ("orders", {**_base_order(d, i, account),
                                  "channel": ("live", "showcase", "other")[i % 3],
                                  "video_id": video}),
        ],
        "negative_follower_count": [
            lambda i: ("account_snapshots", {**_base_snapshot(d), "follower_count": f"-{i + 1}"}),
        ],
        "deleted_before_published": [
            lambda i: ("videos", {**_base_video(d, i),
                                  "deleted_at": _ts(T_NOV + i * 60 - 1 - i * 600, i + 1)}),
        ],
    }
    for reason, makers in variants.items():
        for i in range(k):
            dataset, row = makers[i % len(makers)](i)
            d.add(dataset, row, reason)


def _duplicate_keys(d: Dirty, k: int) -> None:
    """Pairs of different rows sharing a key, on fresh ids: both rows quarantined (2 each)."""
    for i in range(k):
        if i % 2 == 0:
            row = _base_snapshot(d)
            d.add("account_snapshots", row, "duplicate_key")
            d.add("account_snapshots", {**row, "follower_count": str(1234 + i + 1)},
                  "duplicate_key")
        else:
            row = _base_video(d, i)
            d.add("videos", row, "duplicate_key")
            d.add("videos", {**row, "published_at": _ts(T_NOV + DAY + i, i)}, "duplicate_key")


def _version_conflicts(d: Dirty, k: int, accounts: list[str]) -> None:
    """R2: two different versions at the same greatest updated_at (2 quarantine rows each)."""
    for i in range(k):
        created = T_NOV + i * 7200
        base = _base_order(d, i, accounts[i % len(accounts)], created, settled=True)
        base["channel"] = ("live", "showcase")[i % 2]
        if i % 2 == 0:
            other = {**base, "status": "refunded", "refunded_amount": base["amount"],
                     "settled_at": ""}
        else:
            other = {**base, "amount": "98.00"}
        d.add("orders", base, "order_version_conflict")
        d.add("orders", other, "order_version_conflict")


def _video_mismatches(rng: np.random.Generator, d: Dirty, k: int, acc: Accounts,
                      videos: Videos) -> None:
    """R4: well-formed short-video orders whose video is unknown, not a commerce video, or
    another account's commerce video (1 quarantine row each)."""
    acct_w, vid_w = _id_width("acct-", acc.n), _id_width("vid-", videos.n)
    before = videos.published < day_start(CAMPAIGN_LAST - 10)
    plain = np.flatnonzero(~videos.commerce & before)
    sells = np.flatnonzero(videos.commerce & before)
    for i in range(k):
        for reason in ("video_not_found", "video_not_commerce", "video_of_other_account"):
            if reason == "video_not_found":  # an id past the last video: looks real, is not
                owner, vid, published = int(rng.integers(acc.n)), videos.n + 1000 + i, 0
            else:
                vid = int(rng.choice(plain if reason == "video_not_commerce" else sells))
                owner, published = int(videos.account[vid]), int(videos.published[vid])
                if reason == "video_of_other_account":
                    owner = (owner + 1 + int(rng.integers(acc.n - 1))) % acc.n
            created = max(published, day_start(CAMPAIGN_FIRST)) + int(rng.integers(3600, 5 * DAY))
            row = _base_order(d, i, f"acct-{owner + 1:0{acct_w}d}", created, settled=True)
            row.update(channel="short_video", video_id=f"vid-{vid + 1:0{vid_w}d}")
            d.add("orders", row, reason)


def _harmless_order_noise(rng: np.random.Generator, d: Dirty, k: int, orders: Orders,
                          log: ChangeLog, widths: dict[str, int]) -> dict[str, int]:
    """Rows that must NOT be quarantined: exact copies of clean latest versions (R2: one row),
    and paid versions moved to a later-loaded file than their settlement (out of order)."""
    final_settled = (log.kind == SETTLED) & np.isin(orders.life[log.order],
                                                    (LIFE_SETTLE, LIFE_PARTIAL))
    candidates = np.flatnonzero(final_settled)
    picked = rng.choice(candidates, min(2 * k, len(candidates)), replace=False)
    duplicated, moved_orders = np.sort(picked[:k]), np.sort(picked[k:])
    for j, row in enumerate(duplicated):
        table = _order_table(orders, log, np.array([row]), widths)
        d.add("orders", _order_csv_row(table, 0, beijing=j % 2 == 0), None)
    moved = np.flatnonzero((log.kind == PAID) & np.isin(log.order, log.order[moved_orders]))
    log.skip[moved] = True
    for j, row in enumerate(moved):
        table = _order_table(orders, log, np.array([row]), widths)
        d.add("orders", _order_csv_row(table, 0, beijing=j % 2 == 1), None)
    return {"exact_duplicate_order_rows": len(duplicated), "out_of_order_orders": len(moved)}


def _make_dirty(rng: np.random.Generator, n_orders: int, acc: Accounts, videos: Videos,
                orders: Orders, log: ChangeLog, widths: dict[str, int]
                ) -> tuple[Dirty, dict[str, int]]:
    k = _dirty_count(n_orders)
    d = Dirty()
    accounts = [f"acct-{a + 1:0{widths['acct-']}d}" for a in rng.choice(acc.n, 4, replace=False)]
    some_video = f"vid-{int(rng.integers(videos.n)) + 1:0{widths['vid-']}d}"
    _row_level_defects(d, k, accounts[0], some_video)
    _duplicate_keys(d, k)
    _version_conflicts(d, k, accounts)
    _video_mismatches(rng, d, k, acc, videos)
    extras = _harmless_order_noise(rng, d, k, orders, log, widths)
    return d, extras


# ----------------------------------------------------------------------------- entry point


DIRTY_FILES = {
    "account_snapshots": "snapshots_dirty.csv",
    "enrollments": "enrollments_dirty.csv",
    "videos": "videos_dirty.csv",
    "orders": "orders_dirty.csv",
}
CLEAN_FILES = {
    "account_snapshots": "snapshots_*.parquet",
    "enrollments": "enrollments.csv",
    "videos": "videos_*.parquet",
    "orders": "orders_*.parquet",
}


@dataclass
class Tally:
    """Rows and files written per dataset, for the manifest."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))

    def add(self, dataset: str, rows: int, files: int = 1) -> None:
        self.rows[dataset] += rows
        self.files[dataset] += files


def _prepare(out_dir: Path) -> None:
    """Create the dataset folders and remove files an earlier run of this generator wrote, so a
    clean run over a dirty one leaves no stale rows (other files are left alone)."""
    for dataset in DATASETS:
        folder = out_dir / dataset
        folder.mkdir(parents=True, exist_ok=True)
        for glob in (CLEAN_FILES[dataset], DIRTY_FILES[dataset]):
            for path in folder.glob(glob):
                path.unlink()


def _write_accounts(rng: np.random.Generator, acc: Accounts, out_dir: Path,
                    tally: Tally) -> None:
    """Snapshots as one Parquet file per month, enrollments as one CSV."""
    snapshots = _snapshot_table(rng, acc)
    days = np.asarray(snapshots.column("snapshot_date").cast(pa.int32()))
    for month, rows in _month_groups(days):
        path = out_dir / "account_snapshots" / f"snapshots_{month}.parquet"
        _write_parquet(snapshots.take(rows), path)
        tally.add("account_snapshots", len(rows))
    enrollments = _enrollment_rows(rng, acc)
    _write_csv(out_dir / "enrollments" / "enrollments.csv", COLUMNS["enrollments"], enrollments)
    tally.add("enrollments", len(enrollments))


def _write_videos(videos: Videos, n_accounts: int, out_dir: Path, tally: Tally) -> None:
    """One Parquet file per Beijing month of publication."""
    for month, rows in _month_groups(day_of(videos.published)):
        path = out_dir / "videos" / f"videos_{month}.parquet"
        _write_parquet(_video_table(videos, rows, n_accounts), path)
        tally.add("videos", len(rows))


def _write_dirty(dirt: Dirty, out_dir: Path, tally: Tally) -> None:
    for dataset, rows in dirt.rows.items():
        _write_csv(out_dir / dataset / DIRTY_FILES[dataset], COLUMNS[dataset], rows)
        tally.add(dataset, len(rows))


def generate_landing(
    out_dir: Path,
    n_orders: int = 100_000,
    seed: int = 7,
    dirty: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Write a synthetic landing directory (data contract format) and return its manifest.

    `n_orders` clean orders (~2 change-log rows each) over max(50, n_orders // 2000) accounts.
    With `dirty`, extra CSV rows each break exactly one rule; the manifest's
    `expected_quarantine` says how many quarantine rows each reason must produce. The clean
    part of a dirty landing is the clean landing of the same seed (a few rows moved to the
    CSV). `progress(stage, done, total)` is called per stage and per orders file.
    """
    if n_orders < 1:
        raise ValueError(f"n_orders must be positive, got {n_orders}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    report = progress or (lambda stage, done, total: None)
    _prepare(out_dir)
    tally = Tally()

    acc = _make_accounts(rng, max(50, n_orders // 2000))
    _write_accounts(rng, acc, out_dir, tally)
    report("accounts", 1, 1)
    videos = _make_videos(rng, acc, max(300, n_orders // 12))
    _write_videos(videos, acc.n, out_dir, tally)
    report("videos", 1, 1)

    orders = _make_orders(rng, acc, videos, n_orders)
    log = _change_log(rng, orders)
    widths = {"acct-": _id_width("acct-", acc.n), "vid-": _id_width("vid-", videos.n),
              "ord-": _id_width("ord-", n_orders)}
    dirt, extras = Dirty(), {}
    if dirty:  # before writing orders: it moves some clean rows out of the day files
        dirt, extras = _make_dirty(rng, n_orders, acc, videos, orders, log, widths)
    files, rows = _write_orders(out_dir / "orders", orders, log, widths, report)
    tally.add("orders", rows, files)
    if dirty:
        _write_dirty(dirt, out_dir, tally)
        report("dirty", 1, 1)

    manifest = {
        "generator": "orchestration.generate",
        "seed": seed,
        "n_orders": n_orders,
        "dirty": dirty,
        "accounts": acc.n,
        "rows": tally.rows,
        "files": tally.files,
        "expected_quarantine": dict(sorted(dirt.expected.items())),
        **extras,
    }
    (out_dir / "_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
