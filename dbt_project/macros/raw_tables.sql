{#- The `raw` source tables of the engine, as an operation:
        dbt run-operation register_raw_tables --target spark --args '{root: <spark dir>/raw}'
    On DuckDB the loader (orchestration/defs/landing) writes them: nothing to do. On Spark they
    are Parquet folders exported from DuckDB's `raw` schema by orchestration/spark_target.py
    into `root`/<table>/ (<spark dir>/raw), registered here as external tables of database `raw`
    in the persistent metastore, after every export (schemas are read from the files; dropping
    an external table never deletes its files). -#}
{% macro register_raw_tables(root) -%}
    {{ return(adapter.dispatch('register_raw_tables', 'short_video_rewards')(root)) }}
{%- endmacro %}

{% macro default__register_raw_tables(root) -%}
{%- endmacro %}

{% macro spark__register_raw_tables(root) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
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
