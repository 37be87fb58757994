{#- R4, R6 for incremental builds (D29): what each video contributes to its orders' treatment
    (does it exist, whose is it, is it a commerce video, its quota judgement), and the load
    through which that last changed. int_short_video_orders recomputes the orders of videos that
    changed after its own last build. A video that disappeared from the landing stays as a row
    with is_present false (its orders become video_not_found). -#}
{{ config(
    materialized=order_model_materialization(),
    unique_key='video_id',
    incremental_strategy='delete+insert',
    post_hook="{{ record_watermark() }}",
) }}
{%- set attributes = ['is_present', 'account_id', 'is_commerce', 'published_day', 'daily_quota',
    'quota_rank', 'is_over_quota'] -%}
with

videos as (

    select * from {{ ref('stg_videos') }}

),

video_quota as (

    select * from {{ ref('int_video_quota') }}

),

current_attribution as (

    select
        videos.video_id,
        true as is_present,
        videos.account_id,
        videos.is_commerce,
        video_quota.published_day,
        video_quota.daily_quota,
        video_quota.quota_rank,
        coalesce(video_quota.is_over_quota, false) as is_over_quota
    from videos
    left join video_quota
        on videos.video_id = video_quota.video_id

),

{% if is_incremental() %}
previous as (

    select * from {{ this }}

),

-- only videos whose attribution differs from the last build's (new, changed or gone)
changed as (

    select
        coalesce(current_attribution.video_id, previous.video_id) as video_id,
        coalesce(current_attribution.is_present, false) as is_present,
        {% for column in attributes[1:] %}
        current_attribution.{{ column }},
        {% endfor %}
        {{ load_watermark() }} as changed_through
    from current_attribution
    full outer join previous
        on current_attribution.video_id = previous.video_id
    where
        {% for column in attributes %}
        coalesce(current_attribution.{{ column }}, {{ 'false' if column == 'is_present' else 'null' }})
            is distinct from previous.{{ column }}
        {% if not loop.last %}or{% endif %}
        {% endfor %}

)

select * from changed
{% else %}
final as (

    select
        *,
        {{ load_watermark() }} as changed_through
    from current_attribution

)

select * from final
{% endif %}
