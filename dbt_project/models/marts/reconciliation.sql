{#- R12: the numbers close. Each row is one identity with both sides and their difference;
    tests/assert_reconciliation_closes.sql fails the build when any difference is not zero. -#}
with

rewards as (

    select * from {{ ref('account_rewards') }}

),

enrolled as (

    select account_id from {{ ref('int_first_enrollments') }}

),

current_orders as (

    select * from {{ ref('int_orders_current') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

short_video_orders as (

    select * from {{ ref('int_short_video_orders') }}

),

-- Left side of R12, from the current orders and the videos directly (not from the reward path):
-- settled short-video GMV of enrolled accounts' window orders on their own commerce videos.
window_settled_gmv as (

    select
        coalesce(sum(
            case
                when current_orders.status = 'settled'
                    and current_orders.settled_day <= {{ date_var('settlement_cutoff') }}
                    then current_orders.amount - current_orders.refunded_amount
                else 0
            end
        ), 0) as amount
    from current_orders
    inner join enrolled
        on current_orders.account_id = enrolled.account_id
    inner join videos
        on current_orders.video_id = videos.video_id
        and current_orders.account_id = videos.account_id
        and videos.is_commerce
    where not current_orders.is_version_conflict
        and current_orders.channel = 'short_video'
        and current_orders.created_day between {{ date_var('campaign_start') }}
            and {{ date_var('campaign_end') }}

),

checks as (

    select
        'R12 window GMV = sum(window_gmv) + sum(over_quota_gmv)' as identity,
        (select amount from window_settled_gmv) as left_side,
        (select coalesce(sum(window_gmv + over_quota_gmv), 0) from rewards) as right_side

    union all

    select
        'R2 orders = current orders + orders in version conflict',
        -- counted in hash buckets: see macros/count_distinct.sql
        {{ count_distinct(ref('stg_orders'), 'order_id') }},
        (select count(*) from current_orders)

    union all

    select
        'R4 short-video orders = counted + over quota + quarantined',
        (select count(*) from current_orders
            where not is_version_conflict and channel = 'short_video'),
        (select count(*) from short_video_orders
            where treatment in ('counted', 'over_quota', 'quarantined'))

)

select
    identity,
    cast(left_side as decimal(38, 2)) as left_side,
    cast(right_side as decimal(38, 2)) as right_side,
    cast(left_side - right_side as decimal(38, 2)) as difference,
    left_side = right_side as is_balanced
from checks
