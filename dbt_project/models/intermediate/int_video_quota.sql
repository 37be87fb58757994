{#- R6: rank each account-day's commerce videos (deleted ones included: deletion does not give a
    slot back) by published_at then video_id, and compare the rank with the day's quota from the
    follower count as of that day. -#}
with

commerce_videos as (

    select
        video_id,
        account_id,
        published_at,
        published_day,
        deleted_at
    from {{ ref('stg_videos') }}
    where is_commerce

),

with_snapshot as (

    {{ snapshot_as_of(
        'commerce_videos',
        ['video_id', 'account_id', 'published_at', 'published_day', 'deleted_at'],
        'video_id',
        'published_day'
    ) }}

),

ranked as (

    select
        video_id,
        account_id,
        published_at,
        published_day,
        deleted_at,
        snapshot_date as follower_snapshot_date,
        -- no snapshot on or before the day: 0 followers (R6)
        coalesce(follower_count, 0) as follower_count,
        row_number() over (
            partition by account_id, published_day
            order by published_at, video_id
        ) as quota_rank
    from with_snapshot

),

judged as (

    select
        *,
        {{ quota_for_followers('follower_count') }} as daily_quota
    from ranked

)

select
    video_id,
    account_id,
    published_at,
    published_day,
    deleted_at,
    follower_snapshot_date,
    follower_count,
    daily_quota,
    quota_rank,
    quota_rank > daily_quota as is_over_quota
from judged
