{#- R2/R12: every distinct version of an order in conflict (different rows at its greatest
    updated_at), one row each, for the quarantine.
    Incremental (D29): a run recomputes the orders int_orders_current rebuilt since this model's
    last build; an order no longer in conflict is removed (`replace_keys`). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='order_id',
    incremental_strategy='replace_keys',
    post_hook="{{ record_watermark() }}",
) }}
with

current_orders as (

    select order_id, updated_at, is_version_conflict
    from {{ ref('int_orders_current') }}
    {% if is_incremental() %}
    where loaded_through > {{ previous_watermark() }}
    {% endif %}

),

conflicts as (

    select order_id, updated_at
    from current_orders
    where is_version_conflict

),

orders as (

    select * from {{ ref('stg_orders') }}

),

versions as (

    select distinct
        orders.order_id,
        orders.updated_at,
        orders.account_id,
        orders.channel,
        orders.video_id,
        orders.created_at,
        orders.amount,
        orders.refunded_amount,
        orders.status,
        orders.settled_at
    from orders
    inner join conflicts
        on orders.order_id = conflicts.order_id
        and orders.updated_at = conflicts.updated_at

)

{% if is_incremental() %}
{{ rows_and_tombstones('versions', 'current_orders', 'order_id') }}
{% else %}
select * from versions
{% endif %}
