{{ config(materialized='view') }}
{#- R12: every quarantined row with its reason, from the loader's contract checks and from the
    rule checks of R2 (version conflicts) and R4 (attribution mismatches). -#}
{%- set order_columns = ['order_id', 'updated_at', 'account_id', 'channel', 'video_id',
    'created_at', 'amount', 'refunded_amount', 'status', 'settled_at'] -%}
with

contract_violations as (

    {% for dataset in ['account_snapshots', 'enrollments', 'videos', 'orders'] -%}
    select
        dataset,
        'R12' as rule_id,
        reason,
        detail,
        source_file,
        source_row,
        cast(record as {{ dbt.type_string() }}) as record
    from {{ source('raw', dataset ~ '_quarantine') }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

version_conflicts as (

    select
        'orders' as dataset,
        'R2' as rule_id,
        'order_version_conflict' as reason,
        'order_id' as detail,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as source_row,
        cast({{ record_json(order_columns) }} as {{ dbt.type_string() }}) as record
    from {{ ref('int_order_version_conflicts') }}

),

attribution_mismatches as (

    select
        'orders' as dataset,
        'R4' as rule_id,
        quarantine_reason as reason,
        'video_id' as detail,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as source_row,
        cast({{ record_json(order_columns) }} as {{ dbt.type_string() }}) as record
    from {{ ref('int_short_video_orders') }}
    where treatment = 'quarantined'

)

select * from contract_violations
union all
select * from version_conflicts
union all
select * from attribution_mismatches
