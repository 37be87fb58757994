{#- R1: the Beijing (var `timezone`) calendar day of an instant. -#}
{% macro local_date(ts) -%}
    {{ return(adapter.dispatch('local_date', 'short_video_rewards')(ts)) }}
{%- endmacro %}

{% macro default__local_date(ts) -%}
    cast(({{ ts }}) at time zone '{{ var("timezone") }}' as date)
{%- endmacro %}

{% macro duckdb__local_date(ts) -%}
    cast(timezone('{{ var("timezone") }}', {{ ts }}) as date)
{%- endmacro %}

{% macro spark__local_date(ts) -%}
    to_date(from_utc_timestamp({{ ts }}, '{{ var("timezone") }}'))
{%- endmacro %}
