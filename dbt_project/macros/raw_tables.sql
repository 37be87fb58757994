{#- The `raw` source tables of the engine. On DuckDB the loader (orchestration/defs/landing)
    writes them: nothing to do. On Spark they are Parquet files exported from DuckDB's `raw`
    schema by orchestration/spark_target.py into $REWARDS_SPARK_DIR/raw/<table>/, registered
    here, at the start of every dbt invocation (on-run-start), as external tables of database
    `raw`: a re-export is picked up, and dropping one never deletes its files. -#}
{% macro register_raw_tables() -%}
    {{ return(adapter.dispatch('register_raw_tables', 'short_video_rewards')()) }}
{%- endmacro %}

{#- The hook's SQL is empty: dbt executes nothing. -#}
{% macro default__register_raw_tables() -%}
{%- endmacro %}

{% macro spark__register_raw_tables() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set root = env_var('REWARDS_SPARK_DIR') ~ '/raw' -%}
    {#- every table of source `raw` (R12's quarantines included) and the loader's audit log -#}
    {%- set tables = ['load_log'] -%}
    {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
        {%- do tables.append(source.name) -%}
    {%- endfor -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for table in tables | unique | sort -%}
        {%- do run_query('drop table if exists raw.' ~ table) -%}
        {%- do run_query("create table raw." ~ table ~ " using parquet location '" ~ root ~ "/" ~ table ~ "'") -%}
    {%- endfor -%}
{%- endmacro %}
