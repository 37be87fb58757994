{#- R6-R9: the finance marts explain account_rewards to the cent. Rows returned are failures.
    - The counted order lines of an account add up to its baseline-period and window GMV, and its
      over-quota window lines to its over_quota_gmv (int_account_gmv, the GMV account_rewards
      carries). Checked for the accounts whose short-video orders or GMV were rebuilt since the
      marts last passed their tests (D30): no other account's lines or GMV changed.
    - Every enrolled account's account_rewards row carries its int_account_gmv GMV (0 without
      orders), and its video_quota days add up to the same over_quota_gmv. Small tables: checked
      whole.
    A blocking check on marts/account_rewards in the Dagster UI, run in the marts layer's build. -#}
{{ config(meta={
    'description': "R6-R9: the counted order lines add up to every account's baseline, window and over-quota GMV.",
    'dagster': {'ref': {'name': 'account_rewards'}},
}) }}
with

changed_accounts as (

    select account_id from {{ ref('int_short_video_orders') }}
    where changed_through > {{ checked_through('marts') }}
    union
    select account_id from {{ ref('int_account_gmv') }}
    where changed_through > {{ checked_through('marts') }}

),

lines as (

    select
        account_id,
        sum(case when period = 'baseline' then counted_gmv else 0 end) as baseline_period_gmv,
        sum(case when period = 'window' then counted_gmv else 0 end) as window_gmv,
        sum(case when excluded_reason = 'over_quota' and period = 'window'
                then settled_gmv
            else 0
        end) as over_quota_gmv
    from {{ ref('reward_order_lines') }}
    where account_id in (select changed_accounts.account_id from changed_accounts)
    group by account_id

),

gmv as (

    select * from {{ ref('int_account_gmv') }}

),

quota_days as (

    select account_id, sum(over_quota_window_gmv) as over_quota_gmv
    from {{ ref('video_quota') }}
    group by account_id

),

lines_against_gmv as (

    select
        changed_accounts.account_id,
        'order lines = int_account_gmv' as identity,
        coalesce(gmv.baseline_period_gmv, 0) as baseline_period_gmv,
        coalesce(lines.baseline_period_gmv, 0) as other_baseline_period_gmv,
        coalesce(gmv.window_gmv, 0) as window_gmv,
        coalesce(lines.window_gmv, 0) as other_window_gmv,
        coalesce(gmv.over_quota_gmv, 0) as over_quota_gmv,
        coalesce(lines.over_quota_gmv, 0) as other_over_quota_gmv
    from changed_accounts
    left join lines
        on changed_accounts.account_id = lines.account_id
    left join gmv
        on changed_accounts.account_id = gmv.account_id

),

rewards_against_gmv as (

    select
        rewards.account_id,
        'account_rewards = int_account_gmv' as identity,
        rewards.baseline_period_gmv,
        coalesce(gmv.baseline_period_gmv, 0),
        rewards.window_gmv,
        coalesce(gmv.window_gmv, 0),
        rewards.over_quota_gmv,
        coalesce(gmv.over_quota_gmv, 0)
    from {{ ref('account_rewards') }} as rewards
    left join gmv
        on rewards.account_id = gmv.account_id

),

rewards_against_quota_days as (

    select
        rewards.account_id,
        'account_rewards = video_quota days' as identity,
        0, 0, 0, 0,
        rewards.over_quota_gmv,
        coalesce(quota_days.over_quota_gmv, 0)
    from {{ ref('account_rewards') }} as rewards
    left join quota_days
        on rewards.account_id = quota_days.account_id

),

compared as (

    select * from lines_against_gmv
    union all
    select * from rewards_against_gmv
    union all
    select * from rewards_against_quota_days

)

select * from compared
where baseline_period_gmv <> other_baseline_period_gmv
    or window_gmv <> other_window_gmv
    or over_quota_gmv <> other_over_quota_gmv
