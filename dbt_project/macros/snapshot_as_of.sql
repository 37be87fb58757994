{#- R6, R10: join each row of the CTE `spine` to the account's latest snapshot on or before
    `day_column` (none -> snapshot columns null). `spine_columns` are kept as they are; `key` is
    unique in `spine`. DuckDB has a native ASOF join; other engines rank candidate snapshots. -#}
{% macro snapshot_as_of(spine, spine_columns, key, day_column) -%}
    {{ return(adapter.dispatch('snapshot_as_of', 'short_video_rewards')(spine, spine_columns, key, day_column)) }}
{%- endmacro %}

{% macro _snapshot_columns(alias) -%}
    {{ alias }}.snapshot_date,
    {{ alias }}.account_type,
    {{ alias }}.follower_count,
    {{ alias }}.short_video_commerce_enabled,
    {{ alias }}.is_shop_self_operated
{%- endmacro %}

{% macro duckdb__snapshot_as_of(spine, spine_columns, key, day_column) -%}
    select
        {% for column in spine_columns %}spine.{{ column }},{% endfor %}
        {{ _snapshot_columns('snapshot') }}
    from {{ spine }} as spine
    asof left join {{ ref('stg_account_snapshots') }} as snapshot
        on spine.account_id = snapshot.account_id
        and spine.{{ day_column }} >= snapshot.snapshot_date
{%- endmacro %}

{% macro default__snapshot_as_of(spine, spine_columns, key, day_column) -%}
    select
        {% for column in spine_columns %}{{ column }},{% endfor %}
        snapshot_date, account_type, follower_count, short_video_commerce_enabled,
        is_shop_self_operated
    from (
        select
            {% for column in spine_columns %}spine.{{ column }},{% endfor %}
            {{ _snapshot_columns('snapshot') }},
            row_number() over (
                partition by spine.{{ key }} order by snapshot.snapshot_date desc
            ) as snapshot_rank
        from {{ spine }} as spine
        left join {{ ref('stg_account_snapshots') }} as snapshot
            on spine.account_id = snapshot.account_id
            and snapshot.snapshot_date <= spine.{{ day_column }}
    ) as ranked
    where snapshot_rank = 1
{%- endmacro %}
