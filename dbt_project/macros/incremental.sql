{#- D16, D29: the order models are incremental where the engine can delete and insert rows by
    key (DuckDB), and rebuilt whole elsewhere (Spark over plain Parquet tables). -#}
{% macro order_model_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- The newest raw load of any dataset (raw.load_files.load_id): a build has seen every load up
    to it. Loads are numbered by one sequence, so a later load always has a greater number. -#}
{% macro load_watermark() -%}
    (select coalesce(max(load_id), 0) from {{ source('raw', 'load_files') }})
{%- endmacro %}

{#- Where each incremental model records the load it was built through and the rule vars it
    was built with (D29). A model's rows and its record are written in one transaction. -#}
{% macro incremental_state() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
                                  identifier='incremental_state')) }}
{%- endmacro %}

{#- The load this model was last built through; its next incremental build takes what changed
    after it. -#}
{% macro previous_watermark() -%}
    (select coalesce(max(built_through), 0) from {{ incremental_state() }}
     where model = '{{ this.identifier }}')
{%- endmacro %}

{#- The rule vars an incremental model's rows depend on (R1 days, R3 cutoff, R5 periods, R6
    tiers), as JSON: a run with other values rebuilds the models in full
    (orchestration/defs/warehouse/incremental.py). -#}
{% macro incremental_build_vars() -%}
    {%- set tiers = var('quota_tiers') -%}
    {%- if tiers is string -%}{%- set tiers = fromjson(tiers) -%}{%- endif -%}
    {%- set values = {'quota_tiers': tiers} -%}
    {%- for name in ['timezone', 'baseline_start', 'baseline_end', 'campaign_start',
                     'campaign_end', 'settlement_cutoff'] -%}
        {%- do values.update({name: var(name) | string}) -%}
    {%- endfor -%}
    {{ return(tojson(values, sort_keys=true)) }}
{%- endmacro %}

{#- Post-hook of every incremental model: record what it was built through, in the same
    transaction as its rows, and when it was last built in full (the serving copy updates its
    order lines in place only while that has not changed). Nothing elsewhere: those engines
    rebuild every model. -#}
{% macro record_watermark() -%}
    {%- if order_model_materialization() == 'incremental' -%}
    create table if not exists {{ incremental_state() }} (
        model varchar not null, built_through bigint not null, build_vars varchar not null,
        built_at timestamp with time zone not null,
        full_build_at timestamp with time zone not null);
    create or replace temp table _previous_state as
        select * from {{ incremental_state() }} where model = '{{ this.identifier }}';
    delete from {{ incremental_state() }} where model = '{{ this.identifier }}';
    insert into {{ incremental_state() }} values ('{{ this.identifier }}', {{ load_watermark() }},
        '{{ incremental_build_vars() | replace("'", "''") }}', now(),
        {% if should_full_refresh() -%} now()
        {%- else -%} coalesce((select full_build_at from _previous_state), now()) {%- endif %});
    drop table _previous_state
    {%- endif -%}
{%- endmacro %}

{#- Incremental strategy `replace_keys`: delete every key the model's select returned, then
    insert the returned rows that are not tombstones. An incremental select returns, for each
    key it recomputed, its new rows with `_removed` false, or one row with `_removed` true when
    the key has no rows any more (an order that stopped being a short-video order, an account
    whose last order moved away). Full builds return no `_removed` column. -#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ key }} in (select {{ key }} from {{ temp }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }} where not _removed
{%- endmacro %}

{#- The accounts whose short-video orders changed since `watermark` (a load number): those of
    the short-video orders rebuilt after it, and every account any version of a re-read order
    named -- an order's newest version can move it to another account, and the old one must
    lose it. -#}
{% macro changed_accounts_since(watermark) -%}
    select account_id from {{ ref('int_short_video_orders') }}
    where changed_through > {{ watermark }}
    union
    select account_id from {{ ref('stg_orders') }}
    where order_id in (
        select order_id from {{ ref('int_orders_current') }}
        where loaded_through > {{ watermark }}
    )
{%- endmacro %}

{#- The incremental select of a `replace_keys` model: the recomputed `rows`, and a tombstone for
    each of the `changed_keys` left with no row (its old rows are deleted, nothing inserted).
    `union all by name` leaves a tombstone's other columns null. DuckDB only, like every
    incremental build (order_model_materialization). -#}
{% macro rows_and_tombstones(rows, changed_keys, key) -%}
select *, false as _removed from {{ rows }}
union all by name
select {{ key }}, true as _removed from {{ changed_keys }}
where {{ key }} not in (select {{ key }} from {{ rows }})
{%- endmacro %}
