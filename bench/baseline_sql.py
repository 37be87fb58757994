"""Baseline 1: the rules of docs/rules.md as one hand-written DuckDB query over the landing files.

This is what a careful engineer would write to get `account_rewards` out of a *clean* landing
folder (no contract breaches): no warehouse, no quarantine, no lineage, no checks, DuckDB's own
defaults for memory and threads, R2 in one windowed pass (`QUALIFY`; ties at the newest instant
compared by a 64-bit hash of the row, which the pipeline does not rely on, D20). It reads the
rule parameters from dbt_project.yml (they live once) and writes one CSV, `account_id,
is_eligible,baseline_period_gmv,baseline_gmv,window_gmv,over_quota_gmv,reward_base,
reward_points`, sorted by account, for bench/run.py to compare.

    python bench/baseline_sql.py LANDING_DIR OUT.csv
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def rule_var_defaults() -> dict:
    """The rule parameters, from where they live once (without importing the orchestration)."""
    return yaml.safe_load(DBT_PROJECT_YML.read_text())["vars"]


def quota_case(tiers: list[list[int]], followers: str) -> str:
    whens = " ".join(
        f"when {followers} >= {low} then {quota}" for low, quota in sorted(tiers, reverse=True)
    )
    return f"case {whens} else 0 end"


def rewards_sql(landing: Path, v: dict) -> str:
    tz = v["timezone"]

    def days(start: str, end: str) -> int:  # inclusive
        return (date.fromisoformat(str(v[end])) - date.fromisoformat(str(v[start]))).days + 1

    window_days = days("campaign_start", "campaign_end")
    baseline_days = days("baseline_start", "baseline_end")

    def day(ts: str) -> str:
        return f"cast(timezone('{tz}', {ts}) as date)"

    return f"""
with
orders as (select * from read_parquet('{landing}/orders/*.parquet')),
videos as (select * from read_parquet('{landing}/videos/*.parquet')),
snapshots as (select * from read_parquet('{landing}/account_snapshots/*.parquet')),
enrollments as (
    select account_id, cast(enrolled_at as timestamptz) as enrolled_at, enrolled_via
    from read_csv('{landing}/enrollments/*.csv', all_varchar = true)
),
-- R2 in one pass: each order's newest row; when several different rows share its newest
-- instant (their hashes differ) the order is a conflict and drops out, identical ones are one
current_orders as (
    select * exclude (version_hash) from (
        select *, hash(account_id, channel, video_id, created_at, amount, refunded_amount,
                       status, settled_at) as version_hash
        from orders
    )
    window newest as (partition by order_id order by updated_at desc),
        newest_instant as (partition by order_id order by updated_at desc
                           range between current row and current row)
    qualify row_number() over newest = 1
        and min(version_hash) over newest_instant = max(version_hash) over newest_instant
),
-- R10: first enrollment, judged on the snapshot as of its Beijing day
first_enrollment as (
    select *, {day("enrolled_at")} as enrolled_day from enrollments
    qualify row_number() over (partition by account_id order by enrolled_at, enrolled_via) = 1
),
eligibility as (
    select e.account_id,
        coalesce(e.enrolled_day <= date '{v["campaign_end"]}'
            and ((s.account_type = 'merchant' and e.enrolled_via = 'shop_account')
                 or (s.account_type = 'promoter' and e.enrolled_via = 'channels_account'))
            and s.short_video_commerce_enabled
            and (s.follower_count >= {v["min_followers"]} or s.is_shop_self_operated), false)
            as is_eligible
    from first_enrollment e
    asof left join snapshots s
        on e.account_id = s.account_id and e.enrolled_day >= s.snapshot_date
),
-- R6: rank per account and Beijing day against the quota of the day's follower count
commerce_videos as (
    select *, {day("published_at")} as published_day from videos where is_commerce
),
video_quota as (
    select v.video_id, v.account_id,
        row_number() over (partition by v.account_id, v.published_day
                           order by v.published_at, v.video_id)
            > {quota_case(v["quota_tiers"], "coalesce(s.follower_count, 0)")} as is_over_quota
    from commerce_videos v
    asof left join snapshots s
        on v.account_id = s.account_id and v.published_day >= s.snapshot_date
),
-- R3-R5: attributed short-video orders with their period and settled GMV
attributed as (
    select o.account_id, q.is_over_quota,
        {day("o.created_at")} as created_day,
        case when o.status = 'settled'
                and {day("o.settled_at")} <= date '{v["settlement_cutoff"]}'
            then o.amount - o.refunded_amount else 0 end as settled_gmv
    from current_orders o
    join video_quota q on q.video_id = o.video_id and q.account_id = o.account_id
    where o.channel = 'short_video'
),
gmv as (
    select account_id,
        sum(settled_gmv) filter (where not is_over_quota and created_day
            between date '{v["baseline_start"]}' and date '{v["baseline_end"]}') as baseline_period,
        sum(settled_gmv) filter (where not is_over_quota and created_day
            between date '{v["campaign_start"]}' and date '{v["campaign_end"]}') as window_gmv,
        sum(settled_gmv) filter (where is_over_quota and created_day
            between date '{v["campaign_start"]}' and date '{v["campaign_end"]}') as over_quota
    from attributed group by account_id
),
-- R7, R11 in whole cents
amounts as (
    select e.account_id, e.is_eligible,
        cast(coalesce(g.baseline_period, 0) * 100 as bigint) as baseline_period_cents,
        cast(coalesce(g.window_gmv, 0) * 100 as bigint) as window_cents,
        cast(coalesce(g.over_quota, 0) * 100 as bigint) as over_quota_cents
    from eligibility e left join gmv g using (account_id)
),
based as (
    select *,
        (baseline_period_cents * {2 * window_days} + {baseline_days}) // {2 * baseline_days}
            as baseline_cents
    from amounts
),
final as (
    select *, greatest(window_cents - baseline_cents, 0) as base_cents from based
)
select account_id, is_eligible,
    cast(baseline_period_cents as decimal(18, 0)) * 0.01 as baseline_period_gmv,
    cast(baseline_cents as decimal(18, 0)) * 0.01 as baseline_gmv,
    cast(window_cents as decimal(18, 0)) * 0.01 as window_gmv,
    cast(over_quota_cents as decimal(18, 0)) * 0.01 as over_quota_gmv,
    cast(base_cents as decimal(18, 0)) * 0.01 as reward_base,
    case when is_eligible
        then least(cast(floor(cast(base_cents as decimal(18, 0)) * 0.01
                              * cast('{v["reward_rate"]}' as decimal(18, 6))) as bigint),
                   {v["reward_cap_points"]})
        else 0 end as reward_points
from final
order by account_id
"""


def main(landing: Path, out: Path) -> None:
    started = time.monotonic()
    con = duckdb.connect()  # DuckDB's defaults: memory_limit 80% of RAM, one thread per core
    con.execute("set TimeZone = 'UTC'")
    sql = rewards_sql(landing.resolve(), rule_var_defaults())
    con.execute(f"copy ({sql}) to '{out}' (header, delimiter ',')")
    rows = con.execute(f"select count(*), sum(reward_points) from read_csv('{out}')").fetchone()
    print(
        f"sql baseline: {rows[0]:,} accounts, {rows[1]:,} points "
        f"in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
