{#- R2/R12: the exact number of distinct values of `column` in `relation`, counted in
    `partitions` hash buckets. One GROUP BY over 100M order ids (203M rows) ran out of memory at
    DuckDB's 5GB limit (its hash table needs one 1 GiB block) and count(distinct) does not
    spill; a bucket's GROUP BY is an eighth of that (docs/benchmarks.md). -#}
{% macro count_distinct(relation, column, partitions=8) -%}
    (
    {%- for bucket in range(partitions) %}
        (select count(*) from (
            select {{ column }} from {{ relation }}
            where {{ hash_bucket(column, partitions) }} = {{ bucket }}
            group by {{ column }}
        ) as bucket_{{ bucket }}){% if not loop.last %} +{% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{#- A value's bucket in 0 .. n-1. -#}
{% macro hash_bucket(column, n) -%}
    {{ return(adapter.dispatch('hash_bucket', 'short_video_rewards')(column, n)) }}
{%- endmacro %}

{% macro default__hash_bucket(column, n) -%}
    mod(abs(hash({{ column }})), {{ n }})
{%- endmacro %}

{% macro duckdb__hash_bucket(column, n) -%}
    (hash({{ column }}) % {{ n }})
{%- endmacro %}

{% macro spark__hash_bucket(column, n) -%}
    pmod(hash({{ column }}), {{ n }})
{%- endmacro %}
