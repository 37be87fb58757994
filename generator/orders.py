"""Orders and their change log (R2): creation times pinned around period midnights (R1, R5),
settlements straddling the cutoff (R3), one Parquet file per Beijing day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from .accounts import Accounts
from .arrays import (
    Progress,
    categories,
    fmt_ts,
    ids,
    money,
    nullable,
    time_of_day,
    timestamps,
    write_parquet,
)
from .calendar import DAY, Calendar, day_of, day_start, fmt_day
from .videos import Videos
from .vocabulary import (
    CANCELLED,
    CHANNEL_SCALE,
    CHANNELS,
    KIND_STATUS,
    LIFE_CANCEL,
    LIFE_P,
    LIFE_PARTIAL,
    LIFE_REFUND,
    LIFE_SETTLE,
    LIFE_SETTLE_REFUND,
    OTHER_CHANNEL_P,
    OTHER_CHANNELS,
    PAID,
    PARTIAL,
    REFUNDED,
    SETTLED,
    SHORT_VIDEO,
    STATUSES,
)


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


def _daily_weights(cal: Calendar, days: np.ndarray) -> np.ndarray:
    """Order volume per Beijing day: growth trend, weekends, Double-11/12 peaks, campaign."""
    w = 1 + 0.5 * (days - days[0]) / len(days)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
    w = w * np.where(weekday >= 5, 1.15, 1.0)
    w = w * np.where((days >= cal.double_11 - 21) & (days < cal.double_11), 1.3, 1.0)
    w = w * np.where(
        days == cal.double_11, 6.0, np.where(np.abs(days - cal.double_11) == 1, 1.8, 1.0)
    )
    w = w * np.where(
        days == cal.double_12, 3.5, np.where(np.abs(days - cal.double_12) == 1, 1.5, 1.0)
    )
    w = w * np.where((days >= cal.campaign_first) & (days <= cal.campaign_last), 1.25, 1.0)
    w = w * np.where(days > cal.campaign_last, 0.8, 1.0)
    return w / w.sum()


def _created_times(cal: Calendar, rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted creation instants, with orders pinned right before and after period midnights."""
    days = np.arange(cal.order_first, cal.order_last + 1)
    per_day = rng.multinomial(n, _daily_weights(cal, days))
    day = np.repeat(days, per_day)
    tod = time_of_day(rng, n, midnight_share=0.004)
    first_of_day = np.cumsum(per_day) - per_day
    for boundary in cal.boundary_days:
        for d, pinned in ((boundary, (0, 1)), (boundary - 1, (DAY - 1, DAY - 2))):
            i = d - cal.order_first
            if 0 <= i < len(days):
                count = min(len(pinned), int(per_day[i]))
                tod[first_of_day[i] : first_of_day[i] + count] = pinned[:count]
    return np.sort(day_start(day) + tod)


def _pick_accounts(
    cal: Calendar, rng: np.random.Generator, acc: Accounts, created: np.ndarray
) -> np.ndarray:
    """Heavy-tailed account per order; new entrants only from cal.new_entrant_from (R8)."""
    u = rng.random(len(created))
    late = day_of(created) >= cal.new_entrant_from
    out = np.empty(len(created), dtype=np.int32)
    for mask, weight in ((late, acc.weight), (~late, np.where(acc.new_entrant, 0, acc.weight))):
        cdf = np.cumsum(weight) / weight.sum()
        out[mask] = np.minimum(np.searchsorted(cdf, u[mask], side="right"), acc.n - 1)
    return out


def _pick_videos(
    cal: Calendar,
    rng: np.random.Generator,
    videos: Videos,
    account: np.ndarray,
    created: np.ndarray,
) -> np.ndarray:
    """A commerce video of the order's account published on or before the order (R4), recent
    ones favoured; -1 when the account had none yet."""
    commerce = np.flatnonzero(videos.commerce)
    keys = (videos.account[commerce].astype(np.int64) << 32) + (
        videos.published[commerce] - cal.ts_base
    )
    order = np.argsort(keys, kind="stable")
    keys, commerce = keys[order], commerce[order]
    acct_key = account.astype(np.int64) << 32
    end = np.searchsorted(keys, acct_key + (created - cal.ts_base), side="right")
    available = end - np.searchsorted(keys, acct_key, side="left")
    back = (available * rng.random(len(account)) ** 3).astype(np.int64)
    pick = np.clip(end - 1 - back, 0, max(len(commerce) - 1, 0))
    return np.where(available > 0, commerce[pick] if len(commerce) else -1, -1).astype(np.int32)


def make_orders(
    cal: Calendar, rng: np.random.Generator, acc: Accounts, videos: Videos, n: int
) -> Orders:
    created = _created_times(cal, rng, n)
    account = _pick_accounts(cal, rng, acc, created)
    wants_video = rng.random(n) < acc.short_video_share[account]
    video = _pick_videos(cal, rng, videos, account, created)
    other = OTHER_CHANNELS[rng.choice(len(OTHER_CHANNELS), n, p=OTHER_CHANNEL_P)]
    channel = np.where(wants_video & (video >= 0), SHORT_VIDEO, other).astype(np.int8)
    video = np.where(channel == SHORT_VIDEO, video, -1).astype(np.int32)

    channel_scale = CHANNEL_SCALE[channel]
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
    settled[last] = day_start(cal.settlement_boundary) - 1 + np.arange(len(last)) % 2
    return Orders(created, account, channel, video, amount, partial, settled, life)


def _settlement_times(rng: np.random.Generator, created: np.ndarray) -> np.ndarray:
    """7-20 days after payment (3% late: 25-60 days), mostly in the nightly batch right after
    Beijing midnight, some at 23:59 -- so settlements straddle the cutoff day (R3)."""
    n = len(created)
    delay = np.where(rng.random(n) < 0.03, rng.integers(25, 61, n), rng.integers(7, 21, n))
    u = rng.random(n)
    tod = np.where(
        u < 0.45,
        rng.integers(0, 7200, n),
        np.where(u < 0.5, DAY - 1 - rng.integers(0, 60, n), time_of_day(rng, n, 0.0)),
    )
    return day_start(day_of(created) + delay) + tod


def change_log(cal: Calendar, rng: np.random.Generator, orders: Orders) -> ChangeLog:
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
    parts += [
        (idx[refunds], REFUNDED, refund_at[refunds]),
        (idx[life == LIFE_CANCEL], CANCELLED, cancel_at[life == LIFE_CANCEL]),
    ]
    order = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int8) for p in parts])
    updated = np.concatenate([p[2] for p in parts])
    keep = updated < cal.horizon
    order, kind, updated = order[keep], kind[keep], updated[keep]
    sort = np.argsort(updated, kind="stable")
    return ChangeLog(order[sort], kind[sort], updated[sort], np.zeros(len(sort), dtype=bool))


def order_table(
    orders: Orders, log: ChangeLog, rows: np.ndarray, widths: dict[str, int]
) -> pa.Table:
    """Arrow table of change-log rows `rows` (indices into `log`)."""
    o, kind = log.order[rows], log.kind[rows]
    amount = orders.amount[o]
    refunded = np.select(
        [kind == PARTIAL, kind == SETTLED, kind == REFUNDED],
        [orders.partial[o], orders.partial[o], amount],
        0,
    )
    settled = orders.settled[o]
    has_settled = ((kind == SETTLED) | (kind == REFUNDED)) & (settled > 0)
    video = orders.video[o]
    return pa.table(
        {
            "order_id": ids("ord-", o + 1, widths["ord-"]),
            "updated_at": timestamps(log.updated[rows]),
            "account_id": ids("acct-", orders.account[o] + 1, widths["acct-"]),
            "channel": categories(CHANNELS, orders.channel[o]),
            "video_id": nullable(ids("vid-", np.maximum(video, 0) + 1, widths["vid-"]), video >= 0),
            "created_at": timestamps(orders.created[o]),
            "amount": money(amount),
            "refunded_amount": money(refunded.astype(np.int64)),
            "status": categories(STATUSES, KIND_STATUS[kind]),
            "settled_at": timestamps(settled, has_settled),
        }
    )


def order_csv_row(table: pa.Table, i: int, beijing: bool) -> dict[str, str]:
    """CSV text of row `i` of an orders table, typed exactly like the Parquet original."""
    row = {c: table.column(c)[i].as_py() for c in table.column_names}
    out = {}
    for name, value in row.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, datetime):
            out[name] = fmt_ts(int(value.timestamp()), beijing)
        elif name in ("amount", "refunded_amount"):
            out[name] = f"{value:.2f}"
        else:
            out[name] = str(value)
    return out


def write_orders(
    out: Path, orders: Orders, log: ChangeLog, widths: dict[str, int], progress: Progress | None
) -> tuple[int, int]:
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
            table = order_table(orders, log, rows, widths)
            write_parquet(table, out / f"orders_{fmt_day(d)}.parquet")
            files += 1
            rows_written += len(rows)
        if progress:
            progress("orders", i + 1, total)
    return files, rows_written
