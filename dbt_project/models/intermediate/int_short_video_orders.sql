{#- R3-R5 (and R4's quarantine): every current short-video order with its period, its settled
    GMV and how it is treated: counted, over quota (R6), or quarantined (R4).
    Incremental (D29): a run recomputes the orders int_orders_current rebuilt, and the orders of
    videos whose attribution changed (int_video_changes), since this model's last build; an
    order that is no longer a non-conflicting short-video order is removed (`replace_keys`). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='order_id',
    incremental_strategy='replace_keys',
    post_hook="{{ record_watermark() }}",
) }}
-- depends_on: {{ ref('int_video_changes') }}
with

{% if is_incremental() %}
changed_orders as (

    select order_id from {{ ref('int_orders_current') }}
    where loaded_through > {{ previous_watermark() }}
    union
    select order_id from {{ ref('int_orders_current') }}
    where video_id in (
        select video_id from {{ ref('int_video_changes') }}
        where changed_through > {{ previous_watermark() }}
    )

),

current_orders as (

    select
        *,
        not is_version_conflict and channel = 'short_video' as is_short_video_order
    from {{ ref('int_orders_current') }}
    where order_id in (select order_id from changed_orders)

),
{% else %}
current_orders as (

    select
        *,
        true as is_short_video_order
    from {{ ref('int_orders_current') }}
    where not is_version_conflict
        and channel = 'short_video'

),
{% endif %}

videos as (

    select * from {{ ref('stg_videos') }}

),

video_quota as (

    select * from {{ ref('int_video_quota') }}

),

attributed as (

    select
        current_orders.order_id,
        current_orders.account_id,
        current_orders.video_id,
        current_orders.channel,
        current_orders.status,
        current_orders.amount,
        current_orders.refunded_amount,
        current_orders.updated_at,
        current_orders.created_at,
        current_orders.settled_at,
        current_orders.created_day,
        current_orders.settled_day,
        videos.account_id as video_account_id,
        video_quota.published_day as video_published_day,
        video_quota.daily_quota as video_daily_quota,
        video_quota.quota_rank as video_quota_rank,
        -- R4: the video must be a known commerce video of the same account
        case
            when videos.video_id is null then 'video_not_found'
            when not videos.is_commerce then 'video_not_commerce'
            when videos.account_id <> current_orders.account_id then 'video_of_other_account'
        end as quarantine_reason,
        coalesce(video_quota.is_over_quota, false) as is_over_quota,
        current_orders.is_short_video_order
    from current_orders
    left join videos
        on current_orders.video_id = videos.video_id
    left join video_quota
        on current_orders.video_id = video_quota.video_id

),

classified as (

    select
        *,

        -- R5: the period is the Beijing day of created_at
        case
            when created_day
                between {{ date_var('baseline_start') }} and {{ date_var('baseline_end') }}
                then 'baseline'
            when created_day
                between {{ date_var('campaign_start') }} and {{ date_var('campaign_end') }}
                then 'window'
            else 'outside'
        end as period,

        -- R3: settled GMV counts only for a settlement on or before the cutoff day
        case
            when {{ settles_in_time() }} then amount - refunded_amount
            else cast(0 as decimal(18, 2))
        end as settled_gmv,

        case
            when quarantine_reason is not null then 'quarantined'
            when is_over_quota then 'over_quota'
            else 'counted'
        end as treatment

    from attributed

),

final as (

    select
        order_id,
        account_id,
        video_id,
        channel,
        status,
        amount,
        refunded_amount,
        updated_at,
        created_at,
        settled_at,
        created_day,
        settled_day,
        video_account_id,
        video_published_day,
        video_daily_quota,
        video_quota_rank,
        quarantine_reason,
        is_over_quota,
        period,
        settled_gmv,
        treatment,
        {{ load_watermark() }} as changed_through{% if is_incremental() %},
        not is_short_video_order as _removed{% endif %}
    from classified

)

select * from final
