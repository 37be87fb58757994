{#- R7-R11: one row per enrolled account with its GMV, reward base and points. Money columns are
    computed for ineligible accounts too; only their points are 0. The GMV and the amounts
    computed from it are sums of orders: decimal(38,2), and the uncapped points decimal(38,0)
    (D59). -#}
with

eligibility as (

    select * from {{ ref('int_account_eligibility') }}

),

gmv as (

    select * from {{ ref('int_account_gmv') }}

),

amounts as (

    select
        eligibility.account_id,
        -- no snapshot: the type is unknown (null), as the rulebook's table says
        eligibility.account_type,
        eligibility.enrolled_at,
        eligibility.is_eligible,
        eligibility.ineligible_reason,
        coalesce(gmv.baseline_period_gmv, 0) as baseline_period_gmv,
        coalesce(gmv.window_gmv, 0) as window_gmv,
        coalesce(gmv.over_quota_gmv, 0) as over_quota_gmv
    from eligibility
    left join gmv
        on eligibility.account_id = gmv.account_id

),

baselined as (

    select
        *,
        -- R8: no counted settled GMV in the baseline months
        baseline_period_gmv = 0 as is_new_entrant,
        -- R7: daily average scaled to the window length, half-up to 0.01
        {{ prorate_half_up(
            'baseline_period_gmv',
            period_days('campaign_start', 'campaign_end'),
            period_days('baseline_start', 'baseline_end')
        ) }} as baseline_gmv
    from amounts

),

based as (

    select
        *,
        -- R11: never negative
        {{ reward_base('window_gmv', 'baseline_gmv') }} as reward_base
    from baselined

),

pointed as (

    select
        *,
        {{ floor_points('reward_base', reward_rate()) }} as reward_points_uncapped
    from based

),

final as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(account_type as {{ dbt.type_string() }}) as account_type,
        enrolled_at,
        is_eligible,
        cast(ineligible_reason as {{ dbt.type_string() }}) as ineligible_reason,
        is_new_entrant,
        cast(baseline_period_gmv as decimal(38, 2)) as baseline_period_gmv,
        baseline_gmv,
        cast(window_gmv as decimal(38, 2)) as window_gmv,
        cast(over_quota_gmv as decimal(38, 2)) as over_quota_gmv,
        reward_base,
        reward_points_uncapped,
        case
            when not is_eligible then cast(0 as bigint)
            else {{ capped_points('reward_points_uncapped') }}
        end as reward_points,
        is_eligible and reward_points_uncapped > {{ var('reward_cap_points') }} as is_capped
    from pointed

)

select * from final
