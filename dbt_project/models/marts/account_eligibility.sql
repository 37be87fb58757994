{{ config(materialized='view') }}
{#- R10 for finance: what each enrolled account's eligibility was judged on. -#}
select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    enrolled_at,
    enrolled_day,
    cast(enrolled_via as {{ dbt.type_string() }}) as enrolled_via,
    eligibility_snapshot_date,
    cast(account_type as {{ dbt.type_string() }}) as account_type,
    follower_count,
    short_video_commerce_enabled,
    is_shop_self_operated,
    is_eligible,
    cast(ineligible_reason as {{ dbt.type_string() }}) as ineligible_reason
from {{ ref('int_account_eligibility') }}
