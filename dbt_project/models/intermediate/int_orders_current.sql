{#- R2: an order's state is its row with the greatest updated_at. Identical rows are one row;
    different rows sharing the greatest updated_at are a conflict, kept here flagged so the
    quarantine (R12) can list them, and never used for rewards. -#}
with

orders as (

    select * from {{ ref('stg_orders') }}

),

versions as (

    -- identical rows are one row (R2); lineage columns differ between copies, so leave them out
    select distinct
        order_id,
        updated_at,
        account_id,
        channel,
        video_id,
        created_at,
        amount,
        refunded_amount,
        status,
        settled_at,
        created_day,
        settled_day
    from orders

),

latest_version_time as (

    select
        order_id,
        max(updated_at) as latest_updated_at
    from versions
    group by order_id

),

latest_versions as (

    select versions.*
    from versions
    inner join latest_version_time
        on versions.order_id = latest_version_time.order_id
        and versions.updated_at = latest_version_time.latest_updated_at

),

flagged as (

    select
        *,
        count(*) over (partition by order_id) > 1 as is_version_conflict
    from latest_versions

)

select * from flagged
