{{ config(materialized='view') }}
{#- R3-R6 for finance: every current short-video order (R2) with its period (R5), its settled
    GMV (R3) and what the reward did with it. `counted_gmv` is what the order adds to its
    account's baseline or window GMV; summed per account and period it equals
    account_rewards.baseline_period_gmv and window_gmv (tests/assert_order_lines_add_up.sql).
    A view: the serving copy (`rewards explain`, `rewards export`) is where it is written out. -#}
with

orders as (

    select * from {{ ref('int_short_video_orders') }}

),

explained as (

    select
        *,
        -- the first reason, in the order the rules apply; null: counted. R3 names which of
        -- its cases applies: the order's state (refunded, cancelled, paid but not yet settled),
        -- or a settlement after the cutoff (D65)
        case
            when treatment = 'quarantined' then quarantine_reason
            when treatment = 'over_quota' then 'over_quota'
            when period = 'outside' then 'outside_periods'
            when status = 'refunded' then 'refunded'
            when status = 'cancelled' then 'cancelled'
            when status <> 'settled' then 'not_yet_settled'
            when settled_day > {{ date_var('settlement_cutoff') }} then 'settled_after_cutoff'
        end as excluded_reason
    from orders

)

select
    cast(order_id as {{ dbt.type_string() }}) as order_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(video_id as {{ dbt.type_string() }}) as video_id,
    cast(period as {{ dbt.type_string() }}) as period,
    created_at,
    created_day,
    cast(status as {{ dbt.type_string() }}) as status,
    settled_at,
    settled_day,
    amount,
    refunded_amount,
    settled_gmv,
    case when excluded_reason is null then 'counted' else 'excluded' end as line_status,
    cast(excluded_reason as {{ dbt.type_string() }}) as excluded_reason,
    cast(
        case
            when excluded_reason in (
                    'video_not_found', 'video_not_commerce',
                    'video_of_other_account'
                ) then 'R4'
            when excluded_reason = 'over_quota' then 'R6'
            when excluded_reason = 'outside_periods' then 'R5'
            when excluded_reason is not null then 'R3'
        end as {{ dbt.type_string() }}
    ) as rule_id,
    case
        when excluded_reason is null then settled_gmv
        else cast(0 as decimal(18, 2))
    end as counted_gmv,
    video_published_day,
    video_daily_quota,
    video_quota_rank
from explained
