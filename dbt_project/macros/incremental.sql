{#- D16: the order models are incremental where the engine can delete+insert on a key (DuckDB)
    and rebuilt whole elsewhere (Spark over plain Parquet tables). -#}
{% macro order_model_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}
