{#- R12's reconciliation, left side, per account: the settled window GMV of the account's
    current short-video orders on its own commerce videos, computed from int_orders_current and
    the staged videos directly -- not through int_short_video_orders, whose treatment and
    totals it checks (marts/reconciliation). Incremental (D29): the accounts whose short-video
    orders changed since this model's last build are recomputed; an account left with none is
    removed (`replace_keys`). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='account_id',
    incremental_strategy='replace_keys',
    post_hook="{{ record_watermark() }}",
) }}
-- depends_on: {{ ref('int_short_video_orders') }}
-- depends_on: {{ ref('stg_orders') }}
with

{% if is_incremental() %}
changed_accounts as (

    {{ changed_accounts_since(previous_watermark()) }}

),
{% endif %}

current_orders as (

    select * from {{ ref('int_orders_current') }}
    where not is_version_conflict
        and channel = 'short_video'
        and created_day between {{ date_var('campaign_start') }} and {{ date_var('campaign_end') }}
    {% if is_incremental() %}
        and account_id in (select account_id from changed_accounts)
    {% endif %}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

settled as (

    select
        current_orders.account_id,
        case
            when current_orders.status = 'settled'
                and current_orders.settled_day <= {{ date_var('settlement_cutoff') }}
                then current_orders.amount - current_orders.refunded_amount
            else 0
        end as settled_gmv
    from current_orders
    inner join videos
        on current_orders.video_id = videos.video_id
        and current_orders.account_id = videos.account_id
        and videos.is_commerce

),

per_account as (

    select
        account_id,
        -- a sum of decimal(18,2) amounts, as decimal(38,2) (D59)
        {{ sum_money('settled_gmv') }} as window_settled_gmv,
        {{ load_watermark() }} as changed_through
    from settled
    group by account_id

)

{% if is_incremental() %}
{{ rows_and_tombstones('per_account', 'changed_accounts', 'account_id') }}
{% else %}
select * from per_account
{% endif %}
