{#- The model contracts (marts.account_rewards) declare the rulebook's types in DuckDB's names.
    dbt checks a contract by casting null to each declared type (`get_empty_schema_sql`); on
    Spark the two names Spark lacks are translated first: `varchar` (a length-less string) ->
    `string`, `timestamptz` (an instant) -> `timestamp` (Spark's TIMESTAMP is an instant, shown
    in the session time zone). Every other type (decimal(18,2), bigint, boolean) is the same. -#}
{% macro spark_type(data_type) -%}
    {%- set name = data_type | trim | lower -%}
    {%- set renamed = {
        'varchar': 'string',
        'text': 'string',
        'timestamptz': 'timestamp',
        'timestamp with time zone': 'timestamp',
    } -%}
    {{ return(renamed.get(name, data_type)) }}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = {} -%}
        {%- do copy.update(column) -%}
        {%- if copy.get('data_type') is not none -%}
            {%- do copy.update({'data_type': spark_type(copy['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
