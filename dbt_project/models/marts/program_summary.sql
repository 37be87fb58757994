{#- R7-R12 for finance: the programme on one page, as (metric, breakdown, value, unit) rows in a
    fixed order (`position`): accounts by status, points, capped accounts, reward base, GMV, new
    entrants, and quarantined rows by dataset and reason. Counts and money share one exact
    decimal(18,2) `value` column; `unit` says which it is. -#}
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

    select 10 as position, 'enrolled_accounts' as metric, 'all' as breakdown,
        cast(count(*) as decimal(18, 2)) as value, 'accounts' as unit
    from rewards
    union all
    select 20, 'accounts_by_status', breakdown, cast(value as decimal(18, 2)), 'accounts'
    from by_status
    union all
    select 30, 'rewarded_accounts', 'eligible, points > 0', cast(rewarded_accounts as decimal(18, 2)), 'accounts' from eligible
    union all
    select 40, 'capped_accounts', 'eligible', cast(capped_accounts as decimal(18, 2)), 'accounts' from eligible
    union all
    select 50, 'new_entrants', 'eligible', cast(new_entrants as decimal(18, 2)), 'accounts' from eligible
    union all
    select 60, 'reward_points', 'eligible', cast(reward_points as decimal(18, 2)), 'points' from eligible
    union all
    select 70, 'reward_points_uncapped', 'eligible', cast(reward_points_uncapped as decimal(18, 2)), 'points' from eligible
    union all
    select 80, 'new_entrant_points', 'eligible', cast(new_entrant_points as decimal(18, 2)), 'points' from eligible
    union all
    select 90, 'reward_base', 'eligible', cast(reward_base as decimal(18, 2)), 'CNY' from eligible
    union all
    select 100, 'window_gmv', 'eligible', cast(window_gmv as decimal(18, 2)), 'CNY' from eligible
    union all
    select 110, 'baseline_gmv', 'eligible', cast(baseline_gmv as decimal(18, 2)), 'CNY' from eligible
    union all
    select 120, 'over_quota_gmv', 'eligible', cast(over_quota_gmv as decimal(18, 2)), 'CNY' from eligible
    union all
    select 130, 'quarantined_rows', breakdown, cast(value as decimal(18, 2)), 'rows'
    from quarantined

)

select
    position,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(breakdown as {{ dbt.type_string() }}) as breakdown,
    value,
    cast(unit as {{ dbt.type_string() }}) as unit
from metrics
