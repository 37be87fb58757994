{#- Exact money arithmetic (R7, R11), D12 and D59. A single amount is decimal(18,2); an amount
    computed from a sum of them -- GMV, a baseline, a reward base -- is decimal(38,2) (below
    10^36 CNY). DuckDB turns decimal division into a DOUBLE, Spark types every decimal result in
    38 digits at most (an overflow is null there: dbt-spark turns ANSI mode off) and Spark's `div`
    casts to a 64-bit long: so nothing below divides a decimal or multiplies one past 38 digits.
    An amount is split into a high part, a whole number of 10^k CNY, and the low part below
    10^k CNY with its cents (`%` and a multiplication by 10^-k are exact on both engines); the
    high part is divided exactly (exact_quotient), the low part in 64-bit integers. No
    intermediate value is larger than the result: what fits decimal(38,2) is computed exactly. -#}

{#- Σ amounts as decimal(38,2) (D59). -#}
{% macro sum_money(amount) -%}
    {{ return(adapter.dispatch('sum_money', 'short_video_rewards')(amount)) }}
{%- endmacro %}

{#- DuckDB sums decimal(18,2) into decimal(38,2) itself, in 128-bit integers. -#}
{% macro default__sum_money(amount) -%}
    cast(sum({{ amount }}) as decimal(38, 2))
{%- endmacro %}

{#- Spark sums a decimal(p,2) into decimal(p + 10, 2): decimal(28,2) for decimal(18,2) amounts. -#}
{% macro spark__sum_money(amount) -%}
    sum(cast({{ amount }} as decimal(38, 2)))
{%- endmacro %}

{#- amount × numerator / denominator, rounded half-up to 0.01 (0 <= amount < 10^36). `numerator`
    is a whole number known when the SQL is compiled (the window's days); `denominator` too, or a
    SQL expression of positive whole numbers (the days elapsed of reward_accrual's projection);
    both at most 10^6. With amount = H·10^10 + L (L below 10^10 CNY, with its cents) and
    H·numerator = Q·denominator + R (0 <= R < denominator):
    amount × numerator / denominator = Q·10^10 + (R·10^10 + L·numerator) / denominator, whose
    second term, in cents, is (R·10^12 + 100·L·numerator) / denominator: below 2·10^18, a
    64-bit integer, rounded half-up as (2·cents + denominator) div (2·denominator) (D12). -#}
{% macro prorate_half_up(amount, numerator, denominator) -%}
    {%- set amount = "cast(" ~ amount ~ " as decimal(38, 2))" -%}
    {%- set low = "(" ~ amount ~ " % 10000000000)" -%}
    {%- set high = "cast((" ~ amount ~ " - " ~ low ~ ") * 0.0000000001 as decimal(26, 0))" -%}
    {%- set product = "(" ~ high ~ " * " ~ numerator ~ ")" -%}
    {%- set remainder = "(" ~ product ~ " % (" ~ denominator ~ "))" -%}
    {%- set low_cents = "(cast(" ~ remainder ~ " as bigint) * 1000000000000 + cast(" ~ low
        ~ " * 100 as bigint) * " ~ numerator ~ ")" -%}
    cast(
        {{ exact_quotient(product ~ " - " ~ remainder, denominator) }} * 10000000000
        + {{ integer_divide("2 * " ~ low_cents ~ " + (" ~ denominator ~ ")",
                            "2 * (" ~ denominator ~ ")") }} * 0.01
    as decimal(38, 2))
{%- endmacro %}

{#- R11's reward base: max(0, window GMV − baseline GMV), exact. account_rewards applies it to an
    account's window GMV, reward_accrual to its GMV to date and to its projection. -#}
{% macro reward_base(window_gmv, baseline_gmv) -%}
    case
        when {{ window_gmv }} > {{ baseline_gmv }}
            then cast({{ window_gmv }} - {{ baseline_gmv }} as decimal(38, 2))
        else cast(0 as decimal(38, 2))
    end
{%- endmacro %}

{#- R11's cap on whole points (`uncapped`: floor_points of a reward base): a bigint, since it is
    at most reward_cap_points. -#}
{% macro capped_points(uncapped) -%}
    cast(
        case
            when {{ uncapped }} > {{ var('reward_cap_points') }}
                then {{ var('reward_cap_points') }}
            else {{ uncapped }}
        end
    as bigint)
{%- endmacro %}

{#- floor(amount × rate) as whole points, exact (R11), for 0 <= amount < 10^36 and a rate in
    (0, 1] of at most 6 places (rule_vars.py): a decimal(38,0), since a reward base that fits
    decimal(38,2) can earn more points than a bigint holds (D59). With amount = H·10^6 + L (L
    below 10^6 CNY) and rate = N / 10^6: floor(amount × rate) = H·N + floor(L × rate), whose
    product L × rate is decimal(8,2) × decimal(18,6): exact in 27 digits on both engines. -#}
{% macro floor_points(amount, rate) -%}
    {%- set amount = "cast(" ~ amount ~ " as decimal(38, 2))" -%}
    {%- set low = "(" ~ amount ~ " % 1000000)" -%}
    cast(
        cast((({{ amount }}) - {{ low }}) * 0.000001 as decimal(30, 0))
            * cast({{ rate }} * 1000000 as decimal(18, 0))
        + floor(cast({{ low }} as decimal(8, 2)) * {{ rate }})
    as decimal(38, 0))
{%- endmacro %}

{#- dividend / divisor for a whole dividend that divisor divides exactly (0 <= dividend < 10^32,
    0 < divisor <= 10^6), as a whole decimal(38,0). -#}
{% macro exact_quotient(dividend, divisor) -%}
    {{ return(adapter.dispatch('exact_quotient', 'short_video_rewards')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__exact_quotient(dividend, divisor) -%}
    cast(({{ dividend }}) / ({{ divisor }}) as decimal(38, 0))
{%- endmacro %}

{#- DuckDB divides decimals as DOUBLEs: whole numbers divide as HUGEINTs (38 digits). -#}
{% macro duckdb__exact_quotient(dividend, divisor) -%}
    cast(cast({{ dividend }} as hugeint) // ({{ divisor }}) as decimal(38, 0))
{%- endmacro %}

{#- Spark's `div` casts to a 64-bit long. Its decimal division of a decimal(38,0) by a
    decimal(10,0), with spark.sql.decimalOperations.allowPrecisionLoss=false (the profile), is
    typed decimal(38,5): 33 whole digits, so exact for an exact quotient below 10^32. -#}
{% macro spark__exact_quotient(dividend, divisor) -%}
    cast(
        cast({{ dividend }} as decimal(38, 0)) / cast({{ divisor }} as decimal(10, 0))
    as decimal(38, 0))
{%- endmacro %}

{#- Integer division of non-negative 64-bit integers. -#}
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
