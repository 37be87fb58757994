{#- The raw tables are read where the target keeps them: in the warehouse itself, except for
    `rewards simulate`'s target, which builds into a scratch file and reads the raw tables of the
    warehouse attached read-only as `rewards_raw` (profiles.yml). -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.name == 'simulate' -%}
        {%- set relation = relation.incorporate(path={'database': 'rewards_raw'}) -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
