{#- D30: the data tests of the big tables test the rows not yet tested. Every such row carries
    the number of the raw load it came from or was rebuilt through (a staged row's file's load,
    int_orders_current.loaded_through, int_short_video_orders.changed_through); a test's `where`
    compares it with `__checked_through__`, the load through which the test's layer last passed
    its tests. After a layer's `dbt build` passes, the pipeline records that load as the layer's
    `dbt:<layer>` scope in `quality.checked_through` (orchestration/defs/quality/scopes.py). A
    build that fails a test records nothing, so its rows are tested again -- and fail again --
    until they are fixed: a blocking test keeps blocking. A full refresh of the order models
    forgets the scopes, so everything is tested again. Engines that rebuild every model (Spark)
    read `__checked_through__` as 0: every test tests every row. -#}

{#- dbt's own macro, with `__checked_through__` in a test's `where` made the layer's scope. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__checked_through__', checked_through(model.fqn[1])) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The load through which `layer`'s data tests last passed (0: never). -#}
{% macro checked_through(layer) -%}
    {{ return(adapter.dispatch('checked_through', 'short_video_rewards')(layer)) }}
{%- endmacro %}

{% macro default__checked_through(layer) -%}
    0
{%- endmacro %}

{% macro duckdb__checked_through(layer) -%}
    (select coalesce(max(through), 0) from quality.checked_through where scope = 'dbt:{{ layer }}')
{%- endmacro %}

{#- on-run-start: the scope table exists before any test reads it. -#}
{% macro create_checked_through() -%}
    {{ return(adapter.dispatch('create_checked_through', 'short_video_rewards')()) }}
{%- endmacro %}

{% macro default__create_checked_through() -%}
    select 1
{%- endmacro %}

{% macro duckdb__create_checked_through() -%}
    create schema if not exists quality;
    create table if not exists quality.checked_through (
        scope varchar not null, through bigint not null,
        checked_at timestamp with time zone not null, dagster_run_id varchar)
{%- endmacro %}
