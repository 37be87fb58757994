{#- Exact money arithmetic (R7, R11). DuckDB turns decimal division into a DOUBLE, so division is
    done on whole cents with integer arithmetic and only ever multiplied back into a decimal. -#}

{#- amount × numerator / denominator, rounded half-up to 0.01 (amount >= 0). `numerator` is a
    whole number known when the SQL is compiled (the window's days); `denominator` too, or a SQL
    expression of positive whole numbers (the days elapsed of reward_accrual's projection). -#}
{% macro prorate_half_up(amount, numerator, denominator) -%}
    {%- set twice_denominator = (2 * denominator) if denominator is number
        else "(2 * " ~ denominator ~ ")" -%}
    cast(
        cast(
            {{ integer_divide(
                "cast(" ~ amount ~ " * 100 as bigint) * " ~ (2 * numerator) ~ " + " ~ denominator,
                twice_denominator
            ) }}
        as decimal(18, 0)) * cast(0.01 as decimal(3, 2))
    as decimal(18, 2))
{%- endmacro %}

{#- R11's reward base: max(0, window GMV − baseline GMV), exact. account_rewards applies it to an
    account's window GMV, reward_accrual to its GMV to date and to its projection. -#}
{% macro reward_base(window_gmv, baseline_gmv) -%}
    case
        when {{ window_gmv }} > {{ baseline_gmv }}
            then cast({{ window_gmv }} - {{ baseline_gmv }} as decimal(18, 2))
        else cast(0 as decimal(18, 2))
    end
{%- endmacro %}

{#- R11's cap on whole points (`uncapped`: floor_points of a reward base). -#}
{% macro capped_points(uncapped) -%}
    case
        when {{ uncapped }} > {{ var('reward_cap_points') }}
            then cast({{ var('reward_cap_points') }} as bigint)
        else {{ uncapped }}
    end
{%- endmacro %}

{#- floor(amount × rate) as whole points, exact (R11). -#}
{% macro floor_points(amount, rate) -%}
    {{ return(adapter.dispatch('floor_points', 'short_video_rewards')(amount, rate)) }}
{%- endmacro %}

{% macro default__floor_points(amount, rate) -%}
    cast(floor(cast({{ amount }} as decimal(38, 2)) * {{ rate }}) as bigint)
{%- endmacro %}

{#- Spark types a product of decimal(p1,s1) and decimal(p2,s2) as decimal(p1+p2+1, s1+s2) and,
    past 38 digits, rounds its scale down to 6 (unless spark.sql.decimalOperations.
    allowPrecisionLoss=false): decimal(38,2) × decimal(18,6) would be rounded to 6 places, and a
    product just below a whole point could round up to it. A decimal(19,2) amount (every money
    column is decimal(18,2)) makes the product decimal(38,8): exact. -#}
{% macro spark__floor_points(amount, rate) -%}
    cast(floor(cast({{ amount }} as decimal(19, 2)) * {{ rate }}) as bigint)
{%- endmacro %}

{#- Integer division of non-negative integers. -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'short_video_rewards')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    floor(({{ numerator }}) / ({{ denominator }}))
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}

{% macro spark__integer_divide(numerator, denominator) -%}
    (({{ numerator }}) div ({{ denominator }}))
{%- endmacro %}
