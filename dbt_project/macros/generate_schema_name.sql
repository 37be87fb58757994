{#- Models land in the schema named by their layer (`staging`, `intermediate`, `marts`), not in
    dbt's default `<target>_<custom>`: finance queries `marts.account_rewards` by that name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
