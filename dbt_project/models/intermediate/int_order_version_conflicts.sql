{#- R2/R12: every distinct version of an order in conflict (different rows at its greatest
    updated_at), one row each, for the quarantine. -#}
with

conflicts as (

    select order_id, updated_at
    from {{ ref('int_orders_current') }}
    where is_version_conflict

),

orders as (

    select * from {{ ref('stg_orders') }}

)

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
