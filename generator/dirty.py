"""Rows that each break exactly one rule, and the quarantine count each must produce (R12)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .accounts import Accounts
from .arrays import fmt_ts, id_width
from .calendar import DAY, Calendar, day_start
from .orders import ChangeLog, Orders, order_csv_row, order_table
from .videos import Videos
from .vocabulary import COLUMNS, DATASETS, LIFE_PARTIAL, LIFE_SETTLE, PAID, SETTLED


@dataclass
class Dirty:
    """Rows to land as CSV per dataset, and the quarantine rows they must produce (R12)."""

    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {name: [] for name in DATASETS}
    )
    expected: Counter = field(default_factory=Counter)
    counters: Counter = field(default_factory=Counter)
    cal: Calendar | None = None

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
    return fmt_ts(seconds, beijing=i % 2 == 1)


def _base_snapshot(d: Dirty) -> dict[str, str]:
    return {
        "snapshot_date": "2025-11-20",
        "account_id": d.fresh("bad-acct-"),
        "account_type": "promoter",
        "follower_count": "1234",
        "short_video_commerce_enabled": "true",
        "is_shop_self_operated": "false",
    }


def _base_enrollment(d: Dirty, i: int) -> dict[str, str]:
    return {
        "account_id": d.fresh("bad-acct-"),
        "enrolled_at": _ts(d.cal.campaign_noon, i),
        "enrolled_via": "channels_account",
    }


def _base_video(d: Dirty, i: int) -> dict[str, str]:
    return {
        "video_id": d.fresh("bad-vid-"),
        "account_id": d.fresh("bad-acct-"),
        "published_at": _ts(d.cal.campaign_noon + i * 60, i),
        "is_commerce": "true",
        "deleted_at": "",
    }


def _base_order(
    d: Dirty, i: int, account: str, created: int | None = None, settled: bool = False
) -> dict[str, str]:
    """A valid single-row live order with a fresh id, to be broken in exactly one place; when
    `settled`, it is the settlement version ten days later (updated_at = settled_at)."""
    created = d.cal.campaign_noon + i * 3600 if created is None else created
    row = {
        "order_id": d.fresh("bad-ord-"),
        "updated_at": _ts(created, i),
        "account_id": account,
        "channel": "live",
        "video_id": "",
        "created_at": _ts(created, i + 1),
        "amount": "88.00",
        "refunded_amount": "0.00",
        "status": "paid",
        "settled_at": "",
    }
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
            lambda i: (
                "orders",
                {**_base_order(d, i, account), "created_at": "2025-11-22T10:00:00"},
            ),
            lambda i: ("videos", {**_base_video(d, i), "published_at": "2025-11-23T21:15:00"}),
            lambda i: (
                "enrollments",
                {**_base_enrollment(d, i), "enrolled_at": "2025-11-22T09:30:00"},
            ),
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
            lambda i: (
                "orders",
                {**_base_order(d, i, account), "amount": ("0.00", "0", "0.0")[i % 3]},
            ),
        ],
        "refund_out_of_range": [
            lambda i: (
                "orders",
                {**_base_order(d, i, account), "status": "refunded", "refunded_amount": "88.01"},
            ),
            lambda i: ("orders", {**_base_order(d, i, account), "refunded_amount": "-1.00"}),
        ],
        "settled_without_settled_at": [
            lambda i: ("orders", {**_base_order(d, i, account, settled=True), "settled_at": ""}),
        ],
        "settled_before_created": [
            lambda i: (
                "orders",
                {
                    **_base_order(d, i, account, settled=True),
                    "settled_at": _ts(d.cal.campaign_noon + i * 3600 - 1, i),
                },
            ),
        ],
        "short_video_without_video_id": [
            lambda i: ("orders", {**_base_order(d, i, account), "channel": "short_video"}),
        ],
        "video_id_on_other_channel": [
            lambda i: (
                "orders",
                {
                    **_base_order(d, i, account),
                    "channel": ("live", "showcase", "other")[i % 3],
                    "video_id": video,
                },
            ),
        ],
        "negative_follower_count": [
            lambda i: ("account_snapshots", {**_base_snapshot(d), "follower_count": f"-{i + 1}"}),
        ],
        "deleted_before_published": [
            lambda i: (
                "videos",
                {
                    **_base_video(d, i),
                    "deleted_at": _ts(d.cal.campaign_noon + i * 60 - 1 - i * 600, i + 1),
                },
            ),
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
            d.add(
                "account_snapshots", {**row, "follower_count": str(1234 + i + 1)}, "duplicate_key"
            )
        else:
            row = _base_video(d, i)
            d.add("videos", row, "duplicate_key")
            d.add(
                "videos",
                {**row, "published_at": _ts(d.cal.campaign_noon + DAY + i, i)},
                "duplicate_key",
            )


def _version_conflicts(d: Dirty, k: int, accounts: list[str]) -> None:
    """R2: two different versions at the same greatest updated_at (2 quarantine rows each)."""
    for i in range(k):
        created = d.cal.campaign_noon + i * 7200
        base = _base_order(d, i, accounts[i % len(accounts)], created, settled=True)
        base["channel"] = ("live", "showcase")[i % 2]
        if i % 2 == 0:
            other = {
                **base,
                "status": "refunded",
                "refunded_amount": base["amount"],
                "settled_at": "",
            }
        else:
            other = {**base, "amount": "98.00"}
        d.add("orders", base, "order_version_conflict")
        d.add("orders", other, "order_version_conflict")


def _video_mismatches(
    rng: np.random.Generator, d: Dirty, k: int, acc: Accounts, videos: Videos
) -> None:
    """R4: well-formed short-video orders whose video is unknown, not a commerce video, or
    another account's commerce video (1 quarantine row each)."""
    acct_w, vid_w = id_width("acct-", acc.n), id_width("vid-", videos.n)
    before = videos.published < day_start(d.cal.campaign_last - 10)
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
            created = max(published, day_start(d.cal.campaign_first)) + int(
                rng.integers(3600, 5 * DAY)
            )
            row = _base_order(d, i, f"acct-{owner + 1:0{acct_w}d}", created, settled=True)
            row.update(channel="short_video", video_id=f"vid-{vid + 1:0{vid_w}d}")
            d.add("orders", row, reason)


def _harmless_order_noise(
    rng: np.random.Generator,
    d: Dirty,
    k: int,
    orders: Orders,
    log: ChangeLog,
    widths: dict[str, int],
) -> dict[str, int]:
    """Rows that must NOT be quarantined: exact copies of clean latest versions (R2: one row),
    and paid versions moved to a later-loaded file than their settlement (out of order)."""
    final_settled = (log.kind == SETTLED) & np.isin(
        orders.life[log.order], (LIFE_SETTLE, LIFE_PARTIAL)
    )
    candidates = np.flatnonzero(final_settled)
    picked = rng.choice(candidates, min(2 * k, len(candidates)), replace=False)
    duplicated, moved_orders = np.sort(picked[:k]), np.sort(picked[k:])
    for j, row in enumerate(duplicated):
        table = order_table(orders, log, np.array([row]), widths)
        d.add("orders", order_csv_row(table, 0, beijing=j % 2 == 0), None)
    moved = np.flatnonzero((log.kind == PAID) & np.isin(log.order, log.order[moved_orders]))
    log.skip[moved] = True
    for j, row in enumerate(moved):
        table = order_table(orders, log, np.array([row]), widths)
        d.add("orders", order_csv_row(table, 0, beijing=j % 2 == 1), None)
    return {"exact_duplicate_order_rows": len(duplicated), "out_of_order_orders": len(moved)}


def make_dirty(
    cal: Calendar,
    rng: np.random.Generator,
    n_orders: int,
    acc: Accounts,
    videos: Videos,
    orders: Orders,
    log: ChangeLog,
    widths: dict[str, int],
) -> tuple[Dirty, dict[str, int]]:
    k = _dirty_count(n_orders)
    d = Dirty(cal=cal)
    accounts = [f"acct-{a + 1:0{widths['acct-']}d}" for a in rng.choice(acc.n, 4, replace=False)]
    some_video = f"vid-{int(rng.integers(videos.n)) + 1:0{widths['vid-']}d}"
    _row_level_defects(d, k, accounts[0], some_video)
    _duplicate_keys(d, k)
    _version_conflicts(d, k, accounts)
    _video_mismatches(rng, d, k, acc, videos)
    extras = _harmless_order_noise(rng, d, k, orders, log, widths)
    return d, extras
