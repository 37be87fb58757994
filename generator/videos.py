"""Videos per account: mostly within the posting quota, with bursts beyond it (R6)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .accounts import Accounts
from .arrays import id_width, ids, time_of_day, timestamps
from .calendar import DAY, Calendar, day_start
from .vocabulary import BURST_SIZE, G_NO_SNAPSHOT, POSTING_RATE, TIER_QUOTA


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


def make_videos(cal: Calendar, rng: np.random.Generator, acc: Accounts, target: int) -> Videos:
    """Videos per account grow with its sales but stay mostly within its posting quota, so
    over-quota days (R6) are the exception; bursts make sure some exist."""
    no_snapshot = acc.group == G_NO_SNAPSHOT  # counted as 0 followers until its first snapshot
    first_day = np.where(
        no_snapshot, cal.video_first, np.maximum(acc.first_snapshot, cal.video_first)
    )
    first_day = np.where(
        acc.new_entrant, np.maximum(first_day, cal.new_entrant_videos_from), first_day
    )
    quota = np.where(no_snapshot, TIER_QUOTA[0], TIER_QUOTA[acc.tier])
    share = acc.weight**0.6
    capacity = POSTING_RATE * quota * (cal.video_last - first_day + 1)
    per_account = np.maximum(3, np.rint(np.minimum(target * share / share.sum(), capacity)))
    account = np.repeat(np.arange(acc.n), per_account.astype(np.int64))
    n = len(account)
    start = first_day[account]
    day = start + (rng.random(n) * (cal.video_last - start + 1)).astype(np.int64)
    boost = rng.random(n) < 0.3  # more posting during the campaign
    day = np.where(
        boost,
        cal.campaign_first + rng.integers(0, cal.campaign_last - cal.campaign_first + 1, n),
        day,
    )
    published = day_start(day) + time_of_day(rng, n, midnight_share=0.01)
    commerce = rng.random(n) < 0.75

    b_account, b_published = _burst_videos(cal, rng, acc)
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
    return Videos(
        account[order].astype(np.int32), published[order], commerce[order], deleted[order]
    )


def _burst_videos(
    cal: Calendar, rng: np.random.Generator, acc: Accounts
) -> tuple[np.ndarray, np.ndarray]:
    """Account-days with more commerce videos than any quota (R6), some sharing a second so the
    video_id tie-break matters; half in the campaign, the rest in the baseline when possible."""
    n_bursts = max(4, acc.n // 30)
    accounts = rng.choice(acc.n, n_bursts, replace=False)
    in_campaign = (np.arange(n_bursts) % 2 == 0) | acc.new_entrant[accounts]
    day = np.where(
        in_campaign,
        cal.campaign_first + rng.integers(0, cal.campaign_last - cal.campaign_first + 1, n_bursts),
        cal.order_first + rng.integers(0, cal.baseline_last - cal.order_first + 1, n_bursts),
    )
    sizes = rng.integers(*BURST_SIZE, n_bursts)
    owner = np.repeat(accounts, sizes)
    first = np.repeat(day_start(day) + 9 * 3600 + rng.integers(0, 3600, n_bursts), sizes)
    gaps = np.where(rng.random(len(owner)) < 0.2, 0, rng.integers(60, 2400, len(owner)))
    running = np.cumsum(gaps)
    offset = running - np.repeat(running[np.cumsum(sizes) - sizes], sizes)  # 0 at burst start
    return owner, first + offset


def video_table(videos: Videos, rows: np.ndarray, n_accounts: int) -> pa.Table:
    return pa.table(
        {
            "video_id": ids("vid-", rows + 1, id_width("vid-", videos.n)),
            "account_id": ids("acct-", videos.account[rows] + 1, id_width("acct-", n_accounts)),
            "published_at": timestamps(videos.published[rows]),
            "is_commerce": pa.array(videos.commerce[rows]),
            "deleted_at": timestamps(videos.deleted[rows], videos.deleted[rows] >= 0),
        }
    )
