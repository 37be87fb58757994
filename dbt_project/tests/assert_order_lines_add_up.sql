{#- R6-R9: the finance marts explain account_rewards to the cent. Per enrolled account, the
    counted order lines add up to its baseline-period and window GMV, the over-quota window lines
    to its over_quota_gmv, and the video_quota days to the same over_quota_gmv. Rows returned
    are accounts where a side differs. -#}
with

lines as (

    select
        account_id,
        sum(case when period = 'baseline' then counted_gmv else 0 end) as baseline_period_gmv,
        sum(case when period = 'window' then counted_gmv else 0 end) as window_gmv,
        sum(case when excluded_reason = 'over_quota' and period = 'window'
                 then settled_gmv else 0 end) as over_quota_gmv
    from {{ ref('reward_order_lines') }}
    group by account_id

),

quota_days as (

    select account_id, sum(over_quota_window_gmv) as over_quota_gmv
    from {{ ref('video_quota') }}
    group by account_id

)

select
    rewards.account_id,
    rewards.baseline_period_gmv,
    lines.baseline_period_gmv as lines_baseline_period_gmv,
    rewards.window_gmv,
    lines.window_gmv as lines_window_gmv,
    rewards.over_quota_gmv,
    lines.over_quota_gmv as lines_over_quota_gmv,
    quota_days.over_quota_gmv as quota_days_over_quota_gmv
from {{ ref('account_rewards') }} as rewards
left join lines
    on rewards.account_id = lines.account_id
left join quota_days
    on rewards.account_id = quota_days.account_id
where rewards.baseline_period_gmv <> coalesce(lines.baseline_period_gmv, 0)
    or rewards.window_gmv <> coalesce(lines.window_gmv, 0)
    or rewards.over_quota_gmv <> coalesce(lines.over_quota_gmv, 0)
    or rewards.over_quota_gmv <> coalesce(quota_days.over_quota_gmv, 0)
