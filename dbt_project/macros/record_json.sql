{#- R12: a quarantined row's values as a JSON object of strings, so nothing is lost. -#}
{% macro record_json(columns) -%}
    {{ return(adapter.dispatch('record_json', 'short_video_rewards')(columns)) }}
{%- endmacro %}

{% macro default__record_json(columns) -%}
    json_object({% for c in columns %}'{{ c }}', cast({{ c }} as varchar){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- Spark's to_json drops null fields unless told otherwise; json_object keeps them. -#}
{% macro spark__record_json(columns) -%}
    to_json(
        named_struct({% for c in columns %}'{{ c }}', cast({{ c }} as string){% if not loop.last %}, {% endif %}{% endfor %}),
        map('ignoreNullFields', 'false')
    )
{%- endmacro %}
