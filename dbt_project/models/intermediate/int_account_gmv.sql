{#- R7-R9 and R6's report: settled GMV per account and period from its short-video orders. -#}
with

orders as (

    select * from {{ ref('int_short_video_orders') }}
    where treatment <> 'quarantined'

),

aggregated as (

    select
        account_id,
        cast(sum(case when treatment = 'counted' and period = 'baseline' then settled_gmv else 0 end)
            as decimal(18, 2)) as baseline_period_gmv,
        cast(sum(case when treatment = 'counted' and period = 'window' then settled_gmv else 0 end)
            as decimal(18, 2)) as window_gmv,
        cast(sum(case when treatment = 'over_quota' and period = 'window' then settled_gmv else 0 end)
            as decimal(18, 2)) as over_quota_gmv,
        count(case when treatment = 'counted' and period = 'baseline' then 1 end)
            as baseline_orders,
        count(case when treatment = 'counted' and period = 'window' then 1 end) as window_orders,
        count(case when treatment = 'over_quota' and period = 'window' then 1 end)
            as over_quota_orders
    from orders
    group by account_id

)

select * from aggregated
