{#- R9, R11: the accrual closes on the programme. Rows returned are failures.
    - The latest accrual day's points_to_date is the programme's total reward_points, and its
      window_gmv_to_date the enrolled accounts' total window_gmv (no accrual row: both 0).
    - The days run from day 1 of the window without a gap.
    - Each enrolled account's counted GMV by day (int_account_daily_gmv) adds up to its
      window_gmv. Small tables (accounts, days): checked whole.
    A blocking check on marts/reward_accrual in the Dagster UI; it runs in the marts layer's
    build, which then stops before the serving copy if it fails. -#}
{{ config(meta={
    'description': "R9, R11: the accrual's last day closes on the programme's points and window GMV, with no missing day.",
    'dagster': {'ref': {'name': 'reward_accrual'}},
}) }}
with

rewards as (

    select * from {{ ref('account_rewards') }}

),

accrual as (

    select * from {{ ref('reward_accrual') }}

),

latest_day as (

    select max(accrual_date) as accrual_date from accrual

),

latest as (

    select accrual.points_to_date, accrual.window_gmv_to_date
    from accrual
    inner join latest_day
        on accrual.accrual_date = latest_day.accrual_date

),

programme as (

    select
        coalesce(sum(reward_points), 0) as reward_points,
        coalesce(sum(window_gmv), 0) as window_gmv
    from rewards

),

latest_against_programme as (

    select
        'latest accrual day = programme' as identity,
        cast(coalesce((select latest.points_to_date from latest), 0) as decimal(38, 2))
            as accrued,
        cast(programme.reward_points as decimal(38, 2)) as programme,
        cast(coalesce((select latest.window_gmv_to_date from latest), 0) as decimal(38, 2))
            as accrued_gmv,
        cast(programme.window_gmv as decimal(38, 2)) as programme_gmv
    from programme

),

days_without_gap as (

    select
        'accrual days run from day 1 without a gap' as identity,
        cast(count(*) as decimal(38, 2)) as accrued,
        cast(coalesce(max(days_elapsed), 0) as decimal(38, 2)) as programme,
        cast(coalesce(min(days_elapsed), 1) as decimal(38, 2)) as accrued_gmv,
        cast(1 as decimal(38, 2)) as programme_gmv
    from accrual

),

daily_per_account as (

    select account_id, sum(window_gmv) as window_gmv
    from {{ ref('int_account_daily_gmv') }}
    group by account_id

),

days_against_accounts as (

    select
        'int_account_daily_gmv = account_rewards.window_gmv: ' || rewards.account_id as identity,
        cast(0 as decimal(38, 2)) as accrued,
        cast(0 as decimal(38, 2)) as programme,
        cast(coalesce(daily_per_account.window_gmv, 0) as decimal(38, 2)) as accrued_gmv,
        cast(rewards.window_gmv as decimal(38, 2)) as programme_gmv
    from rewards
    left join daily_per_account
        on rewards.account_id = daily_per_account.account_id

),

compared as (

    select * from latest_against_programme
    union all
    select * from days_without_gap
    union all
    select * from days_against_accounts

)

select * from compared
where accrued <> programme or accrued_gmv <> programme_gmv
