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
    -- each R10 test in the rulebook's order (false: it failed); the first false is the reason
    passes_enrolled_in_time,
    passes_snapshot_exists,
    passes_enrollment_channel,
    passes_commerce_enabled,
    passes_follower_threshold,
    is_eligible,
    cast(ineligible_reason as {{ dbt.type_string() }}) as ineligible_reason
from {{ ref('int_account_eligibility') }}
