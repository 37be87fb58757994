{#- R7-R12 for finance: the programme on one page, as (metric, breakdown, value, unit) rows in a
    fixed order (`position`): accounts by status, points, capped accounts, reward base, GMV, new
    entrants, and quarantined rows by dataset and reason. Counts and money share one exact
    decimal(38,2) `value` column (D59); `unit` says which it is. -#}
with

rewards as (

    select * from {{ ref('account_rewards') }}

),

quarantine as (

    select * from {{ ref('quarantine') }}

),

by_status as (

    select
        case when is_eligible then 'eligible' else 'ineligible: ' || ineligible_reason end
            as breakdown,
        count(*) as value
    from rewards
    group by 1

),

eligible as (

    select
        count(*) as accounts,
        coalesce(sum(reward_points), 0) as reward_points,
        coalesce(sum(reward_points_uncapped), 0) as reward_points_uncapped,
        count(case when is_capped then 1 end) as capped_accounts,
        count(case when reward_points > 0 then 1 end) as rewarded_accounts,
        coalesce(sum(reward_base), 0) as reward_base,
        coalesce(sum(window_gmv), 0) as window_gmv,
        coalesce(sum(baseline_gmv), 0) as baseline_gmv,
        coalesce(sum(over_quota_gmv), 0) as over_quota_gmv,
        count(case when is_new_entrant then 1 end) as new_entrants,
        coalesce(sum(case when is_new_entrant then reward_points else 0 end), 0)
            as new_entrant_points
    from rewards
    where is_eligible

),

quarantined as (

    select
        dataset || ': ' || reason || ' (' || rule_id || ')' as breakdown,
        count(*) as value
    from quarantine
    group by 1

),

metrics as (

    select
        10 as position, 'enrolled_accounts' as metric, 'all' as breakdown,
        cast(count(*) as decimal(38, 2)) as value, 'accounts' as unit
    from rewards
    union all
    select
        20 as position, 'accounts_by_status' as metric, breakdown,
        cast(value as decimal(38, 2)) as value, 'accounts' as unit
    from by_status
    union all
    select
        30 as position, 'rewarded_accounts' as metric, 'eligible, points > 0' as breakdown,
        cast(rewarded_accounts as decimal(38, 2)) as value, 'accounts' as unit
    from eligible
    union all
    select
        40 as position, 'capped_accounts' as metric, 'eligible' as breakdown,
        cast(capped_accounts as decimal(38, 2)) as value, 'accounts' as unit
    from eligible
    union all
    select
        50 as position, 'new_entrants' as metric, 'eligible' as breakdown,
        cast(new_entrants as decimal(38, 2)) as value, 'accounts' as unit
    from eligible
    union all
    select
        60 as position, 'reward_points' as metric, 'eligible' as breakdown,
        cast(reward_points as decimal(38, 2)) as value, 'points' as unit
    from eligible
    union all
    select
        70 as position, 'reward_points_uncapped' as metric, 'eligible' as breakdown,
        cast(reward_points_uncapped as decimal(38, 2)) as value, 'points' as unit
    from eligible
    union all
    select
        80 as position, 'new_entrant_points' as metric, 'eligible' as breakdown,
        cast(new_entrant_points as decimal(38, 2)) as value, 'points' as unit
    from eligible
    union all
    select
        90 as position, 'reward_base' as metric, 'eligible' as breakdown,
        cast(reward_base as decimal(38, 2)) as value, 'CNY' as unit
    from eligible
    union all
    select
        100 as position, 'window_gmv' as metric, 'eligible' as breakdown,
        cast(window_gmv as decimal(38, 2)) as value, 'CNY' as unit
    from eligible
    union all
    select
        110 as position, 'baseline_gmv' as metric, 'eligible' as breakdown,
        cast(baseline_gmv as decimal(38, 2)) as value, 'CNY' as unit
    from eligible
    union all
    select
        120 as position, 'over_quota_gmv' as metric, 'eligible' as breakdown,
        cast(over_quota_gmv as decimal(38, 2)) as value, 'CNY' as unit
    from eligible
    union all
    select
        130 as position, 'quarantined_rows' as metric, breakdown,
        cast(value as decimal(38, 2)) as value, 'rows' as unit
    from quarantined

)

select
    position,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(breakdown as {{ dbt.type_string() }}) as breakdown,
    value,
    cast(unit as {{ dbt.type_string() }}) as unit
from metrics
