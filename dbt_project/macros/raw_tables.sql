{#- The `raw` source tables of the engine, as an operation:
        dbt run-operation register_raw_tables --target spark --args '{root: <spark dir>/raw}'
    On DuckDB the loader (orchestration/defs/landing) writes them: nothing to do. On Spark they
    are Parquet folders exported from DuckDB's `raw` schema by orchestration/spark/build.py
    into `root`/<table>/ (<spark dir>/raw), registered here as external tables of database `raw`
    in the persistent metastore, after every export (schemas are read from the files; dropping
    an external table never deletes its files). DDL goes through adapter.execute without a
    fetch: run_query fetches, which fails over Thrift after a statement with no result set
    (PyHive's fetchall: 'NoneType' object is not iterable, dropbox/PyHive#388). -#}
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
    {%- do adapter.execute('create database if not exists raw', fetch=False) -%}
    {%- for table in tables | unique | sort -%}
        {%- do adapter.execute('drop table if exists raw.' ~ table, fetch=False) -%}
        {%- do adapter.execute("create table raw." ~ table ~ " using parquet location '" ~ root ~ "/" ~ table ~ "'", fetch=False) -%}
    {%- endfor -%}
{%- endmacro %}
