{#- R2 in one narrow pass (int_orders_current): each version of an order gets a key that sorts
    by updated_at and then by the version's row in the raw table, and from which the row can be
    read back. The greatest key of an order is its latest instant's last row; the greatest key
    built on the complemented row number is the same instant's first row. When the two rows are
    the same row, that row is the order's state; otherwise several rows share the latest instant
    and R2 compares them (identical rows are one, different ones a conflict).
    Row numbers must stay below 2^34 (17 billion rows in raw.orders; D20). -#}

{#- 2^34: rows are numbered below it; keys are instant * 2^34 + row. -#}
{% macro row_id_base() -%}
    {{ return(17179869184) }}
{%- endmacro %}

{% macro max_row_id() -%}
    {{ return(row_id_base() - 1) }}
{%- endmacro %}

{#- A raw table's rows with `_row_id`, the table's own number for each row. -#}
{% macro select_with_row_id(relation) -%}
    {{ return(adapter.dispatch('select_with_row_id', 'short_video_rewards')(relation)) }}
{%- endmacro %}

{% macro duckdb__select_with_row_id(relation) -%}
    select *, rowid as _row_id from {{ relation }}
{%- endmacro %}

{#- Elsewhere the raw tables carry it as a column, `_row_id` (the Spark loader numbers each
    file's rows, D71). -#}
{% macro default__select_with_row_id(relation) -%}
    select * from {{ relation }}
{%- endmacro %}

{#- (instant, row) as one number ordered by instant, then row. -#}
{% macro version_key(ts, row_id) -%}
    {{ return(adapter.dispatch('version_key', 'short_video_rewards')(ts, row_id)) }}
{%- endmacro %}

{% macro duckdb__version_key(ts, row_id) -%}
    (cast(epoch_us({{ ts }}) as hugeint) * {{ row_id_base() }} + ({{ row_id }}))
{%- endmacro %}

{% macro default__version_key(ts, row_id) -%}
    (cast(unix_micros({{ ts }}) as decimal(38, 0)) * {{ row_id_base() }} + ({{ row_id }}))
{%- endmacro %}

{#- The row number back out of a key. -#}
{% macro version_key_row(key) -%}
    {{ return(adapter.dispatch('version_key_row', 'short_video_rewards')(key)) }}
{%- endmacro %}

{% macro duckdb__version_key_row(key) -%}
    cast(({{ key }}) & {{ max_row_id() }} as bigint)
{%- endmacro %}

{% macro default__version_key_row(key) -%}
    cast(pmod({{ key }}, {{ row_id_base() }}) as bigint)
{%- endmacro %}
