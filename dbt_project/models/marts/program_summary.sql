{#- R6-R12 for finance: the programme on one page, and the one place its figures are computed
    (D61): the run's summary, the Dagster metadata, the workbook, the statements index and
    `rewards simulate` all show these rows. Each figure has one definition, and its label names
    the population it counts: "all enrolled accounts", or "eligible accounts" -- the money
    totals and points are those of eligible accounts, what the programme pays on; the window
    GMV is also given for all enrolled accounts, the figure the accrual (its latest day) and
    R12's reconciliation close on. Rows (metric, breakdown, label, value, unit) in a fixed order
    (`position`); counts and money share one exact decimal(38,2) `value` column (D59), `unit`
    says which it is. -#}
{%- set eligible = "'eligible accounts'" -%}
{%- set enrolled = "'all enrolled accounts'" -%}
{#- (position, metric, breakdown, label, column of the one-row CTE, unit) -#}
{%- set totals = [
    (30, 'rewarded_accounts', eligible, "'rewarded accounts (eligible accounts with points)'",
        'eligible.rewarded_accounts', 'accounts'),
    (40, 'capped_accounts', eligible, "'capped accounts (eligible accounts)'",
        'eligible.capped_accounts', 'accounts'),
    (50, 'new_entrants', eligible, "'new entrants (eligible accounts)'",
        'eligible.new_entrants', 'accounts'),
    (60, 'reward_points', eligible, "'reward points (eligible accounts)'",
        'eligible.reward_points', 'points'),
    (70, 'reward_points_uncapped', eligible, "'reward points before the cap (eligible accounts)'",
        'eligible.reward_points_uncapped', 'points'),
    (80, 'new_entrant_points', eligible, "'reward points of new entrants (eligible accounts)'",
        'eligible.new_entrant_points', 'points'),
    (90, 'reward_base', eligible, "'reward base (eligible accounts)'",
        'eligible.reward_base', 'CNY'),
    (100, 'window_gmv', eligible, "'window GMV (eligible accounts)'",
        'eligible.window_gmv', 'CNY'),
    (105, 'window_gmv', enrolled, "'window GMV (all enrolled accounts)'",
        'enrolled.window_gmv', 'CNY'),
    (110, 'baseline_gmv', eligible, "'baseline GMV (eligible accounts)'",
        'eligible.baseline_gmv', 'CNY'),
    (120, 'over_quota_gmv', eligible, "'over-quota GMV (eligible accounts)'",
        'eligible.over_quota_gmv', 'CNY'),
    (130, 'quarantined_rows', "'all datasets'", "'quarantined rows (all datasets)'",
        'quarantined_total.quarantined_rows', 'rows'),
] -%}
with

rewards as (

    select * from {{ ref('account_rewards') }}

),

quarantine as (

    select * from {{ ref('quarantine') }}

),

by_status as (

    select
        case
            when is_eligible then 'eligible accounts'
            else 'ineligible: ' || ineligible_reason
        end as breakdown,
        case
            when is_eligible then 'eligible accounts'
            else 'ineligible accounts: ' || ineligible_reason || ' (R10)'
        end as label,
        count(*) as value
    from rewards
    group by 1, 2

),

enrolled as (

    select
        count(*) as accounts,
        coalesce(sum(window_gmv), 0) as window_gmv
    from rewards

),

eligible as (

    select
        count(case when reward_points > 0 then 1 end) as rewarded_accounts,
        count(case when is_capped then 1 end) as capped_accounts,
        count(case when is_new_entrant then 1 end) as new_entrants,
        coalesce(sum(reward_points), 0) as reward_points,
        coalesce(sum(reward_points_uncapped), 0) as reward_points_uncapped,
        coalesce(sum(case when is_new_entrant then reward_points else 0 end), 0)
            as new_entrant_points,
        coalesce(sum(reward_base), 0) as reward_base,
        coalesce(sum(window_gmv), 0) as window_gmv,
        coalesce(sum(baseline_gmv), 0) as baseline_gmv,
        coalesce(sum(over_quota_gmv), 0) as over_quota_gmv
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

quarantined_total as (

    select count(*) as quarantined_rows from quarantine

),

metrics as (

    select
        10 as position, 'enrolled_accounts' as metric, {{ enrolled }} as breakdown,
        {{ enrolled }} as label, cast(accounts as decimal(38, 2)) as value, 'accounts' as unit
    from enrolled
    union all
    select
        20 as position, 'accounts_by_status' as metric, breakdown,
        label, cast(value as decimal(38, 2)) as value, 'accounts' as unit
    from by_status
    {% for position, metric, breakdown, label, column, unit in totals %}
    union all
    select
        {{ position }} as position, '{{ metric }}' as metric, {{ breakdown }} as breakdown,
        {{ label }} as label, cast({{ column }} as decimal(38, 2)) as value,
        '{{ unit }}' as unit
    from eligible
    cross join enrolled
    cross join quarantined_total
    {% endfor %}
    union all
    select
        140 as position, 'quarantined_rows' as metric, breakdown,
        'quarantined rows: ' || breakdown as label, cast(value as decimal(38, 2)) as value,
        'rows' as unit
    from quarantined

)

select
    position,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(breakdown as {{ dbt.type_string() }}) as breakdown,
    cast(label as {{ dbt.type_string() }}) as label,
    value,
    cast(unit as {{ dbt.type_string() }}) as unit
from metrics
