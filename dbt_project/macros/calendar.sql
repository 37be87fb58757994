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

{#- Spark's to_date reads an instant's day in the session time zone: from_utc_timestamp gives the
    instant whose UTC clock shows `timezone`'s wall clock, to_utc_timestamp moves that clock into
    the session's zone, so the day is right whatever the session's zone (D78). -#}
{% macro spark__local_date(ts) -%}
    to_date(to_utc_timestamp(from_utc_timestamp({{ ts }}, '{{ var("timezone") }}'), current_timezone()))
{%- endmacro %}
