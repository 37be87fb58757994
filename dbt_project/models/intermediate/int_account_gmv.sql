{#- R7-R9 and R6's report: settled GMV per account and period from its short-video orders.
    Incremental (D29): a run recomputes the accounts whose short-video orders changed since this
    model's last build (macro changed_accounts_since); an account left with no order is removed
    (`replace_keys`). -#}
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
    where treatment <> 'quarantined'
    {% if is_incremental() %}
        and account_id in (select account_id from changed_accounts)
    {% endif %}

),

aggregated as (

    select
        account_id,
        -- sums of decimal(18,2) amounts, as decimal(38,2): never overflowing (D59)
        {{ sum_money(
            "case when treatment = 'counted' and period = 'baseline' then settled_gmv else 0 end"
        ) }} as baseline_period_gmv,
        {{ sum_money(
            "case when treatment = 'counted' and period = 'window' then settled_gmv else 0 end"
        ) }} as window_gmv,
        {{ sum_money(
            "case when treatment = 'over_quota' and period = 'window' then settled_gmv else 0 end"
        ) }} as over_quota_gmv,
        count(case when treatment = 'counted' and period = 'baseline' then 1 end)
            as baseline_orders,
        count(case when treatment = 'counted' and period = 'window' then 1 end) as window_orders,
        count(case when treatment = 'over_quota' and period = 'window' then 1 end)
            as over_quota_orders,
        {{ load_watermark() }} as changed_through
    from orders
    group by account_id

)

{% if is_incremental() %}
{{ rows_and_tombstones('aggregated', 'changed_accounts', 'account_id') }}
{% else %}
select * from aggregated
{% endif %}
