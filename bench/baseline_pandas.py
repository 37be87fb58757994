"""Baseline 2: the rules of docs/rules.md as a straightforward pandas script.

What an analyst would write: read every landing file into DataFrames, sort, group, merge_asof,
aggregate. Money is kept exact as integer cents (never floats); everything else is plain pandas.
Same output as bench/baseline_sql.py, for bench/run.py to compare.

    python bench/baseline_pandas.py LANDING_DIR OUT.csv
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def read_parquet_cents(folder: Path, money: tuple[str, ...] = ()) -> pd.DataFrame:
    """All Parquet files of a folder; decimal money columns as int64 cents."""
    table = pq.read_table(folder)
    for name in money:
        cents = pc.cast(pc.multiply(table[name], pa.scalar(100, pa.int64())), pa.int64())
        table = table.set_column(table.schema.get_field_index(name), name, cents)
    return table.to_pandas()


def main(landing: Path, out: Path) -> None:
    started = time.monotonic()
    v = yaml.safe_load(DBT_PROJECT_YML.read_text())["vars"]
    tz = v["timezone"]

    def day(s: pd.Series) -> pd.Series:  # R1: the Beijing calendar day, as a naive midnight
        return s.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize().dt.as_unit("us")

    def between(s: pd.Series, start: str, end: str) -> pd.Series:
        return s.between(pd.Timestamp(start), pd.Timestamp(end))

    orders = read_parquet_cents(landing / "orders", ("amount", "refunded_amount"))
    videos = read_parquet_cents(landing / "videos")
    snapshots = read_parquet_cents(landing / "account_snapshots")
    snapshots["snapshot_date"] = pd.to_datetime(snapshots["snapshot_date"]).dt.as_unit("us")
    enrollments = pd.concat(
        pd.read_csv(p, dtype=str) for p in (landing / "enrollments").glob("*.csv")
    )
    enrollments["enrolled_at"] = pd.to_datetime(
        enrollments["enrolled_at"], format="ISO8601", utc=True
    )

    # R2: the rows at each order's latest updated_at; identical rows are one, different rows drop
    latest_at = orders.groupby("order_id")["updated_at"].transform("max")
    latest = orders[orders["updated_at"] == latest_at]
    latest = latest.drop_duplicates()
    current = latest[~latest["order_id"].duplicated(keep=False)]
    del orders, latest

    # R10: first enrollment, judged on the snapshot as of its Beijing day
    first = enrollments.sort_values(["enrolled_at", "enrolled_via"]).drop_duplicates("account_id")
    first["enrolled_day"] = day(first["enrolled_at"])
    judged = pd.merge_asof(
        first.sort_values("enrolled_day"),
        snapshots.sort_values("snapshot_date"),
        left_on="enrolled_day",
        right_on="snapshot_date",
        by="account_id",
    )
    merchant = (judged["account_type"] == "merchant") & (judged["enrolled_via"] == "shop_account")
    promoter = (judged["account_type"] == "promoter") & (
        judged["enrolled_via"] == "channels_account"
    )
    judged["is_eligible"] = (
        (judged["enrolled_day"] <= pd.Timestamp(v["campaign_end"]))
        & (merchant | promoter)
        & judged["short_video_commerce_enabled"].fillna(False).astype(bool)
        & (
            (judged["follower_count"] >= v["min_followers"])
            | judged["is_shop_self_operated"].fillna(False).astype(bool)
        )
    ).fillna(False)

    # R6: rank per account and Beijing day against the quota of the day's follower count
    cv = videos[videos["is_commerce"]].copy()
    cv["published_day"] = day(cv["published_at"])
    cv = pd.merge_asof(
        cv.sort_values("published_day"),
        snapshots.sort_values("snapshot_date"),
        left_on="published_day",
        right_on="snapshot_date",
        by="account_id",
        suffixes=("", "_snapshot"),
    )
    cv = cv.sort_values(["account_id", "published_day", "published_at", "video_id"])
    cv["rank"] = cv.groupby(["account_id", "published_day"]).cumcount() + 1
    followers = cv["follower_count"].fillna(0)
    quota = pd.Series(0, index=cv.index)
    for low, q in sorted(v["quota_tiers"]):
        quota[followers >= low] = q
    cv["is_over_quota"] = cv["rank"] > quota

    # R3-R5: attributed short-video orders with their period and settled GMV
    sv = current[current["channel"] == "short_video"].merge(
        cv[["video_id", "account_id", "is_over_quota"]], on=["video_id", "account_id"]
    )
    sv["created_day"] = day(sv["created_at"])
    settled = (sv["status"] == "settled") & (
        day(sv["settled_at"]) <= pd.Timestamp(v["settlement_cutoff"])
    )
    sv["gmv"] = (sv["amount"] - sv["refunded_amount"]).where(settled, 0)
    base_period = between(sv["created_day"], v["baseline_start"], v["baseline_end"])
    window = between(sv["created_day"], v["campaign_start"], v["campaign_end"])
    sv["baseline_period"] = sv["gmv"].where(base_period & ~sv["is_over_quota"], 0)
    sv["window"] = sv["gmv"].where(window & ~sv["is_over_quota"], 0)
    sv["over_quota"] = sv["gmv"].where(window & sv["is_over_quota"], 0)
    gmv = sv.groupby("account_id")[["baseline_period", "window", "over_quota"]].sum()

    # R7, R11 in whole cents
    r = judged[["account_id", "is_eligible"]].merge(gmv, on="account_id", how="left").fillna(0)
    window_days = (pd.Timestamp(v["campaign_end"]) - pd.Timestamp(v["campaign_start"])).days + 1
    baseline_days = (pd.Timestamp(v["baseline_end"]) - pd.Timestamp(v["baseline_start"])).days + 1
    r["baseline"] = (r["baseline_period"] * 2 * window_days + baseline_days) // (2 * baseline_days)
    r["base"] = (r["window"] - r["baseline"]).clip(lower=0)
    num, den = _fraction(v["reward_rate"])
    r["points"] = (r["base"] * num // (den * 100)).clip(upper=v["reward_cap_points"])
    r["points"] = r["points"].where(r["is_eligible"], 0)

    def money(cents: pd.Series) -> pd.Series:
        return cents.astype("int64").map(
            lambda c: f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"
        )

    result = pd.DataFrame(
        {
            "account_id": r["account_id"],
            "is_eligible": r["is_eligible"].map({True: "true", False: "false"}),
            "baseline_period_gmv": money(r["baseline_period"]),
            "baseline_gmv": money(r["baseline"]),
            "window_gmv": money(r["window"]),
            "over_quota_gmv": money(r["over_quota"]),
            "reward_base": money(r["base"]),
            "reward_points": r["points"].astype("int64"),
        }
    ).sort_values("account_id")
    result.to_csv(out, index=False)
    print(
        f"pandas baseline: {len(result):,} accounts, {result['reward_points'].sum():,} points "
        f"in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )


def _fraction(rate: str) -> tuple[int, int]:
    """An exact decimal string as numerator/denominator, e.g. '0.015' -> (15, 1000)."""
    whole, _, frac = str(rate).partition(".")
    return int(whole + frac), 10 ** len(frac)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
