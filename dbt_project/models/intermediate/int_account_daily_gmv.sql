{#- R3-R6, R9 by day: each account's counted window GMV per Beijing day of creation (R1, R5),
    from its counted short-video orders whose settlement counts (R3) -- the order lines that
    reward_order_lines lists as counted in the window (D22). marts.reward_accrual sums them day
    by day. Incremental like int_account_gmv (D29): a run recomputes the accounts whose
    short-video orders changed since this model's last build; an account left with no counted
    window order is removed (`replace_keys`). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='account_id',
    incremental_strategy='replace_keys',
    post_hook="{{ record_watermark() }}",
) }}
-- depends_on: {{ ref('int_orders_current') }}
-- depends_on: {{ ref('stg_orders') }}
with

{% if is_incremental() %}
changed_accounts as (

    {{ changed_accounts_since(previous_watermark()) }}

),
{% endif %}

orders as (

    select * from {{ ref('int_short_video_orders') }}
    where treatment = 'counted'
        and period = 'window'
        and {{ settles_in_time() }}
    {% if is_incremental() %}
        and account_id in (select account_id from changed_accounts)
    {% endif %}

),

daily as (

    select
        account_id,
        created_day,
        {{ sum_money('settled_gmv') }} as window_gmv,
        count(*) as counted_orders,
        {{ load_watermark() }} as changed_through
    from orders
    group by account_id, created_day

)

{% if is_incremental() %}
{{ rows_and_tombstones('daily', 'changed_accounts', 'account_id') }}
{% else %}
select * from daily
{% endif %}
