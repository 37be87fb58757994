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

short_video_orders as (

    select * from {{ ref('int_short_video_orders') }}

),

-- Left side of R12, from the current orders and the videos directly (not from the reward path):
-- settled short-video GMV of enrolled accounts' window orders on their own commerce videos,
-- kept per account by int_account_window_check
window_settled_gmv as (

    select coalesce(sum(checked.window_settled_gmv), 0) as amount
    from {{ ref('int_account_window_check') }} as checked
    inner join enrolled
        on checked.account_id = enrolled.account_id

),

checks as (

    select
        'R12 window GMV = sum(window_gmv) + sum(over_quota_gmv)' as identity,
        (select amount from window_settled_gmv) as left_side,
        (select coalesce(sum(window_gmv + over_quota_gmv), 0) from rewards) as right_side

    union all

    select
        'R2 orders = current orders + orders in version conflict' as identity,
        -- the distinct orders of the staged change log, counted from its rows
        (select orders from {{ ref('int_order_count') }}) as left_side,
        (select count(*) from current_orders) as right_side

    union all

    select
        'R4 short-video orders = counted + over quota + quarantined' as identity,
        (
            select count(*) from current_orders
            where not is_version_conflict and channel = 'short_video'
        ) as left_side,
        (
            select count(*) from short_video_orders
            where treatment in ('counted', 'over_quota', 'quarantined')
        ) as right_side

)

select
    identity,
    cast(left_side as decimal(38, 2)) as left_side,
    cast(right_side as decimal(38, 2)) as right_side,
    cast(left_side - right_side as decimal(38, 2)) as difference,
    left_side = right_side as is_balanced
from checks
