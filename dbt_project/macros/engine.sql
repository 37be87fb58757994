{#- One model config value per engine, for configs that must differ by `target.type`, e.g. a
    model that is incremental on DuckDB but a full table on Spark (whose Parquet tables have no
    delete+insert / merge):
        {{ config(materialized=per_engine(duckdb='incremental', default='table')) }}
    Returns the value named by the target's type, else `default`. -#}
{% macro per_engine(default=none) -%}
    {{ return(kwargs.get(target.type, default)) }}
{%- endmacro %}
