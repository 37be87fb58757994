"""What the generated data are made of: the contract's vocabularies (read from
orchestration/contract.py, in its order), and the generator's own shares, tiers and lifecycles."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.contract import DATASETS as CONTRACT
from orchestration.contract import all_reasons


def accepted(dataset: str, column: str) -> tuple[str, ...]:
    """A column's accepted values, as the data contract declares them (and in its order)."""
    (values,) = [c.accepted for c in CONTRACT[dataset].columns if c.name == column]
    return values


CHANNELS = accepted("orders", "channel")
SHORT_VIDEO, LIVE = CHANNELS.index("short_video"), CHANNELS.index("live")
# the other channels among non-video orders, and their shares
OTHER_CHANNEL_SHARE = {"live": 0.55, "showcase": 0.30, "other": 0.15}
OTHER_CHANNELS = np.array([CHANNELS.index(name) for name in OTHER_CHANNEL_SHARE])
OTHER_CHANNEL_P = np.array(list(OTHER_CHANNEL_SHARE.values()))
# typical basket size per channel, relative to a short-video order's
CHANNEL_SCALE = np.array(
    [{"short_video": 1.0, "live": 1.3, "showcase": 0.9, "other": 0.7}[name] for name in CHANNELS]
)
STATUSES = accepted("orders", "status")
ACCOUNT_TYPES = accepted("account_snapshots", "account_type")
MERCHANT, PROMOTER = ACCOUNT_TYPES.index("merchant"), ACCOUNT_TYPES.index("promoter")
# the channel each account type enrolls through (R10), indexed by account type
ENROLLED_VIA = tuple(
    {"merchant": "shop_account", "promoter": "channels_account"}[kind] for kind in ACCOUNT_TYPES
)
if set(ENROLLED_VIA) != set(accepted("enrollments", "enrolled_via")):
    raise ValueError("the contract's enrolled_via values are not the account types' channels")

# Change-log row kinds and the status each one carries.
PAID, PARTIAL, SETTLED, REFUNDED, CANCELLED = range(5)
KIND_STATUS = np.array(
    [STATUSES.index(status) for status in ("paid", "paid", "settled", "refunded", "cancelled")],
    dtype=np.int8,
)

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
    "order_version_conflict",
    "video_not_found",
    "video_not_commerce",
    "video_of_other_account",
)
