{#- The liability day by day during the campaign, for finance's month-end close: one row per
    Beijing day of the window (R1, R5) up to the latest day on which a counted window order was
    created. points_to_date is what would be owed if no further order came: R11 on each eligible
    account's counted window GMV to date against its full baseline (R7, R8), capped, summed.
    projected_points extrapolates each account's GMV to date to the whole window
    (× window days / days elapsed, half-up to 0.01), then applies R11 the same way. Orders count
    once settled (R3): an order not yet settled adds to the accrual on the run after it settles.
    The latest row's points_to_date is the programme's total points
    (tests/assert_accrual_closes.sql). -#}
with

rewards as (

    select * from {{ ref('account_rewards') }}

),

daily as (

    select daily.*
    from {{ ref('int_account_daily_gmv') }} as daily
    inner join rewards
        on daily.account_id = rewards.account_id

),

window_days as (

    {{ window_days() }}

),

calendar as (

    select window_days.accrual_date, window_days.days_elapsed
    from window_days
    where window_days.accrual_date <= (select max(daily.created_day) from daily)

),

programme_days as (

    select
        created_day,
        sum(window_gmv) as window_gmv
    from daily
    group by created_day

),

programme_gmv as (

    select
        calendar.accrual_date,
        cast(
            sum(coalesce(programme_days.window_gmv, 0)) over (
                order by calendar.accrual_date
                rows between unbounded preceding and current row
            ) as decimal(38, 2)
        ) as window_gmv_to_date
    from calendar
    left join programme_days
        on calendar.accrual_date = programme_days.created_day

),

eligible as (

    select account_id, baseline_gmv
    from rewards
    where is_eligible
        and account_id in (select daily.account_id from daily)

),

account_days as (

    select
        eligible.account_id,
        eligible.baseline_gmv,
        calendar.accrual_date,
        calendar.days_elapsed,
        coalesce(daily.window_gmv, cast(0 as decimal(38, 2))) as day_gmv
    from eligible
    cross join calendar
    left join daily
        on
        eligible.account_id = daily.account_id
        and calendar.accrual_date = daily.created_day

),

to_date as (

    select
        account_id,
        baseline_gmv,
        accrual_date,
        days_elapsed,
        cast(
            sum(day_gmv) over (
                partition by account_id order by accrual_date
                rows between unbounded preceding and current row
            ) as decimal(38, 2)
        ) as gmv_to_date
    from account_days

),

projected as (

    select
        *,
        -- the GMV to date as a daily average over the whole window, half-up to 0.01
        {{ prorate_half_up(
            'gmv_to_date', period_days('campaign_start', 'campaign_end'), 'days_elapsed'
        ) }} as projected_gmv
    from to_date

),

pointed as (

    select
        accrual_date,
        account_id,
        -- R11 with the cap, on the GMV to date and on the projection
        {{ capped_points(
            floor_points(reward_base('gmv_to_date', 'baseline_gmv'), reward_rate())
        ) }} as points_to_date,
        {{ capped_points(
            floor_points(reward_base('projected_gmv', 'baseline_gmv'), reward_rate())
        ) }} as projected_points
    from projected

),

programme_points as (

    select
        accrual_date,
        cast(sum(points_to_date) as bigint) as points_to_date,
        cast(sum(projected_points) as bigint) as projected_points,
        count(case when points_to_date > 0 then 1 end) as accounts_earning
    from pointed
    group by accrual_date

),

final as (

    select
        calendar.accrual_date,
        calendar.days_elapsed,
        programme_gmv.window_gmv_to_date,
        coalesce(programme_points.points_to_date, cast(0 as bigint)) as points_to_date,
        coalesce(programme_points.projected_points, cast(0 as bigint)) as projected_points,
        cast(coalesce(programme_points.accounts_earning, 0) as bigint) as accounts_earning
    from calendar
    inner join programme_gmv
        on calendar.accrual_date = programme_gmv.accrual_date
    left join programme_points
        on calendar.accrual_date = programme_points.accrual_date

)

select * from final
