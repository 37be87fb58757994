{#- R10: eligibility judged on the snapshot as of the first enrollment day; the first failing test,
    in the rulebook's order, is the reason. -#}
with

first_enrollments as (

    select * from {{ ref('int_first_enrollments') }}

),

with_snapshot as (

    {{ snapshot_as_of(
        'first_enrollments',
        ['account_id', 'enrolled_at', 'enrolled_day', 'enrolled_via'],
        'account_id',
        'enrolled_day'
    ) }}

),

tested as (

    -- each R10 test's outcome, once, in the rulebook's order: false only when the test fails
    -- (a test on a missing snapshot is never reached: no_snapshot decides first)
    select
        account_id,
        enrolled_at,
        enrolled_day,
        enrolled_via,
        snapshot_date as eligibility_snapshot_date,
        account_type,
        follower_count,
        short_video_commerce_enabled,
        is_shop_self_operated,
        enrolled_day <= {{ date_var('campaign_end') }} as passes_enrolled_in_time,
        snapshot_date is not null as passes_snapshot_exists,
        coalesce(
            (account_type = 'merchant' and enrolled_via = 'shop_account')
            or (account_type = 'promoter' and enrolled_via = 'channels_account'),
            true
        ) as passes_enrollment_channel,
        coalesce(short_video_commerce_enabled, true) as passes_commerce_enabled,
        coalesce(
            follower_count >= {{ var('min_followers') }} or is_shop_self_operated, true
        ) as passes_follower_threshold
    from with_snapshot

),

judged as (

    select
        *,
        case
            when not passes_enrolled_in_time then 'enrolled_after_campaign'
            when not passes_snapshot_exists then 'no_snapshot'
            when not passes_enrollment_channel then 'wrong_enrollment_channel'
            when not passes_commerce_enabled then 'commerce_not_enabled'
            when not passes_follower_threshold then 'below_follower_threshold'
        end as ineligible_reason
    from tested

)

select
    *,
    ineligible_reason is null as is_eligible
from judged
