"""One day of order changes for the daily-run benchmark, as the issue tracker describes a day.

    python bench/changes.py LANDING_DIR OUT.parquet [--rows 50000] [--seed 7]

Of `--rows` change-log rows, three quarters are later versions of existing orders (a paid order
settles, a settled one gets a 30 % refund, any other gets a newer identical state) and one
quarter are new settled short-video orders in the window, on existing orders' accounts and
videos. Written as one Parquet file in the contract's types, for the landing's orders folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb


def write_changes(landing: Path, out: Path, rows: int = 50_000, seed: int = 7) -> int:
    later, new = rows * 3 // 4, rows - rows * 3 // 4
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"""
        create temp table latest as
        select * from read_parquet('{landing}/orders/*.parquet')
        qualify row_number() over (partition by order_id order by updated_at desc) = 1
    """)
    con.execute("set threads = 1")  # a seeded sample is the same sample only on one thread
    con.execute(f"""
        copy (
            with later as (
                select * from latest using sample reservoir({later} rows) repeatable ({seed})
            ),
            versions as (
                select
                    order_id,
                    updated_at + interval 1 day as updated_at,
                    account_id, channel, video_id, created_at, amount,
                    case when status = 'settled' then cast(round(amount * 0.3, 2) as decimal(18, 2))
                         else refunded_amount end as refunded_amount,
                    case when status = 'paid' then 'settled' else status end as status,
                    case when status = 'paid' then updated_at + interval 1 day
                         else settled_at end as settled_at
                from later
            ),
            sources as (
                select *, row_number() over (order by order_id) as n
                from (select * from latest where channel = 'short_video')
                using sample reservoir({new} rows) repeatable ({seed + 1})
            ),
            fresh as (
                select
                    'bench-new-' || n as order_id,
                    timestamptz '2025-12-15 04:00:00+00' + to_days(cast(n % 10 as integer))
                        + interval 1 day as updated_at,
                    account_id, channel, video_id,
                    timestamptz '2025-12-15 04:00:00+00' + to_days(cast(n % 10 as integer))
                        as created_at,
                    amount,
                    cast(0 as decimal(18, 2)) as refunded_amount,
                    'settled' as status,
                    timestamptz '2025-12-15 04:00:00+00' + to_days(cast(n % 10 as integer))
                        + interval 1 day as settled_at
                from sources
            )
            select * from versions
            union all
            select * from fresh
        ) to '{out}' (format parquet)
    """)
    return con.execute(f"select count(*) from read_parquet('{out}')").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{write_changes(args.landing, args.out, args.rows, args.seed):,} rows -> {args.out}")


if __name__ == "__main__":
    main()
