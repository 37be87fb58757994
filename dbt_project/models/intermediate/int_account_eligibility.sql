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

judged as (

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
        case
            when enrolled_day > {{ date_var('campaign_end') }} then 'enrolled_after_campaign'
            when snapshot_date is null then 'no_snapshot'
            when not (
                (account_type = 'merchant' and enrolled_via = 'shop_account')
                or (account_type = 'promoter' and enrolled_via = 'channels_account')
            ) then 'wrong_enrollment_channel'
            when not short_video_commerce_enabled then 'commerce_not_enabled'
            when follower_count < {{ var('min_followers') }} and not is_shop_self_operated
                then 'below_follower_threshold'
        end as ineligible_reason
    from with_snapshot

)

select
    *,
    ineligible_reason is null as is_eligible
from judged
