{#- R6 for finance: one row per account and Beijing publishing day with commerce videos: the
    follower count it was judged on, the tier and quota, the videos published (deleted ones keep
    their slot) and over quota, and the window GMV those over-quota videos cost. -#}
with

videos as (

    select * from {{ ref('int_video_quota') }}

),

over_quota_orders as (

    select
        video_id,
        count(*) as orders,
        {{ sum_money("case when period = 'window' then settled_gmv else 0 end") }} as window_gmv
    from {{ ref('int_short_video_orders') }}
    where treatment = 'over_quota'
    group by video_id

),

days as (

    select
        videos.account_id,
        videos.published_day,
        -- every video of an account-day is judged on the same as-of snapshot
        max(videos.follower_snapshot_date) as follower_snapshot_date,
        max(videos.follower_count) as follower_count,
        max(videos.daily_quota) as daily_quota,
        count(*) as published_videos,
        count(videos.deleted_at) as deleted_videos,
        count(case when videos.is_over_quota then 1 end) as over_quota_videos,
        cast(coalesce(sum(over_quota_orders.orders), 0) as bigint) as over_quota_orders,
        cast(coalesce(sum(over_quota_orders.window_gmv), 0) as decimal(38, 2))
            as over_quota_window_gmv
    from videos
    left join over_quota_orders
        on videos.video_id = over_quota_orders.video_id
    group by videos.account_id, videos.published_day

)

select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    published_day,
    follower_snapshot_date,
    follower_count,
    {{ quota_tier_for_followers('follower_count') }} as tier_min_followers,
    daily_quota,
    published_videos,
    deleted_videos,
    over_quota_videos,
    over_quota_orders,
    over_quota_window_gmv
from days
