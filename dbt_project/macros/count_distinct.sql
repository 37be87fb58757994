{#- R2/R12: the exact number of distinct values of `column` in `relation`, counted in hash
    buckets of at most `rows_per_bucket` rows each. One GROUP BY over 100M order ids (203M rows)
    ran out of memory at DuckDB's 5GB limit (its hash table needs one 1 GiB block) and
    count(distinct) does not spill; eight buckets of ~25M rows each fit. A table that fits one
    bucket (10M orders: 20M rows) is grouped once instead of scanned eight times
    (docs/benchmarks.md). Rendered without the table (the SQL linter's compile), one bucket. -#}
{% macro count_distinct(relation, column, rows_per_bucket=25000000) -%}
    {%- set partitions = 1 -%}
    {%- if execute and load_relation(relation) is not none -%}
        {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
        {%- set partitions = [1, ((rows + rows_per_bucket - 1) // rows_per_bucket) | int] | max -%}
    {%- endif %}
    (
    {%- for bucket in range(partitions) %}
        (select count(*) from (
            select {{ column }} from {{ relation }}
            {%- if partitions > 1 %}
            where {{ hash_bucket(column, partitions) }} = {{ bucket }}
            {%- endif %}
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
