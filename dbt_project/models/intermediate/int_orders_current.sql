{#- R2: an order's state is its row with the greatest updated_at. Identical rows are one row;
    different rows sharing the greatest updated_at are a conflict: the order is flagged (its
    state columns left null, never guessed) and its versions are listed by
    int_order_version_conflicts for the quarantine (R12).
    One narrow pass finds each order's latest instant and its first and last row there
    (macros/order_versions.sql); only the rare orders with several rows at that instant are
    compared column by column (docs/benchmarks.md: this replaced a join back to every latest
    version and a wide aggregate, 777 s -> 261 s at 100M orders, D20).
    Incremental (D16): a run recomputes only the orders with a version in a file loaded since
    the table was last built (`loaded_through`), and replaces their rows (delete+insert). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
) }}
{%- set state_columns = ['account_id', 'channel', 'video_id', 'created_at', 'amount',
    'refunded_amount', 'status', 'settled_at'] -%}
with

order_files as (

    select * from {{ source('raw', 'load_files') }}
    where dataset = 'orders'

),

{% if is_incremental() %}
new_order_files as (

    select file from order_files
    where load_id > (select coalesce(max(loaded_through), 0) from {{ this }})

),

changed_orders as (

    select distinct order_id from {{ ref('stg_orders') }}
    where source_file in (select file from new_order_files)

),

changed_versions as (

    select * from {{ ref('stg_orders') }}
    where order_id in (select order_id from changed_orders)

),
{% endif %}
{#- Read three times below: a full build names the staged view each time (DuckDB would write a
    shared CTE of every version out first); an incremental one shares the changed orders'. -#}
{%- set versions = 'changed_versions' if is_incremental() else ref('stg_orders') %}

orders as (

    select order_id, updated_at, row_id from {{ versions }}

),

latest_instant as (

    select
        order_id,
        max(updated_at) as updated_at,
        max({{ version_key('updated_at', 'row_id') }}) as last_row_key,
        max({{ version_key('updated_at', max_row_id() ~ ' - row_id') }}) as first_row_key
    from orders
    group by order_id

),

latest as (

    select
        order_id,
        updated_at,
        {{ version_key_row('last_row_key') }} as last_row_id,
        {{ max_row_id() }} - {{ version_key_row('first_row_key') }} as first_row_id
    from latest_instant

),

-- nearly every order: one row at its latest instant, which is its state
single_latest as (

    select
        order_id,
        updated_at,
        {% for column in state_columns %}
        {{ column }},
        {% endfor %}
        false as is_version_conflict
    from {{ versions }}
    where
        row_id in (
            select latest.last_row_id from latest
            where latest.last_row_id = latest.first_row_id
        )

),

tied_versions as (

    select versions.*
    from {{ versions }} as versions
    inner join latest
        on versions.order_id = latest.order_id
        and versions.updated_at = latest.updated_at
    where latest.last_row_id <> latest.first_row_id

),

-- the rest: several rows at the latest instant. They agree on every column exactly when each
-- column's min equals its max and it is null on all of them or on none.
tied_latest as (

    select
        order_id,
        max(updated_at) as updated_at,
        {% for column in state_columns %}
        min({{ column }}) as {{ column }},
        {% endfor %}
        (
            {% for column in state_columns %}
            coalesce(min({{ column }}) <> max({{ column }}), false)
            or count({{ column }}) not in (0, count(*))
            {% if not loop.last %}or{% endif %}
            {% endfor %}
        ) as is_version_conflict
    from tied_versions
    group by order_id

),

current_state as (

    select * from single_latest
    union all
    select * from tied_latest

),

final as (

    select
        order_id,
        updated_at,
        {% for column in state_columns %}
        case when not is_version_conflict then {{ column }} end as {{ column }},
        {% endfor %}
        -- Beijing days (R1), computed once per order rather than once per version
        case when not is_version_conflict then {{ local_date('created_at') }} end as created_day,
        case when not is_version_conflict then {{ local_date('settled_at') }} end as settled_day,
        is_version_conflict,
        -- what an incremental run needs to know about how this row was built
        '{{ var("timezone") }}' as day_timezone,
        (select max(order_files.load_id) from order_files) as loaded_through
    from current_state

)

select * from final
