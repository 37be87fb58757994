{#- R12's reconciliation, R2 identity, left side: how many distinct orders the staged change
    log holds, counted from the raw rows themselves (never from int_orders_current, which it
    checks). One row. A full build counts every order (in hash buckets: macros/count_distinct);
    an incremental one (D29) adds the orders whose every version arrived in files loaded since
    its last build: the distinct orders of those files less the ones also in earlier files. -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='metric',
    incremental_strategy='delete+insert',
    post_hook="{{ record_watermark() }}",
) }}
{% if is_incremental() %}
with

new_files as (

    select file from {{ source('raw', 'load_files') }}
    where dataset = 'orders' and load_id > {{ previous_watermark() }}

),

new_orders as (

    select distinct order_id from {{ ref('stg_orders') }}
    where source_file in (select file from new_files)

),

-- probed by the (few) new orders' ids, not by the old files' names
seen_before as (

    select distinct order_id from {{ ref('stg_orders') }}
    where order_id in (select order_id from new_orders)
        and source_file not in (select file from new_files)

)

select
    'distinct_orders' as metric,
    (select orders from {{ this }})
        + (select count(*) from new_orders)
        - (select count(*) from seen_before) as orders
{% else %}
select
    'distinct_orders' as metric,
    {{ count_distinct(ref('stg_orders'), 'order_id') }} as orders
{% endif %}
