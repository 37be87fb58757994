{#- Typed access to the rule parameters in dbt_project.yml `vars` (one place, cited by rule id). -#}

{#- A date var as a SQL date literal, e.g. date_var('campaign_start'). -#}
{% macro date_var(name) -%}
    cast('{{ var(name) }}' as date)
{%- endmacro %}

{#- Number of days from `start_var` to `end_var`, both inclusive, computed at compile time so the
    40 and 92 of R7 are derived from the dates, never written down. -#}
{% macro period_days(start_var, end_var) -%}
    {%- set start = modules.datetime.date.fromisoformat(var(start_var) | string) -%}
    {%- set end = modules.datetime.date.fromisoformat(var(end_var) | string) -%}
    {%- if end < start -%}
        {{ exceptions.raise_compiler_error(end_var ~ " is before " ~ start_var) }}
    {%- endif -%}
    {{ return((end - start).days + 1) }}
{%- endmacro %}

{#- The campaign window's Beijing days (R5) as rows `(accrual_date, days_elapsed)`, written out
    when the SQL is compiled from the date vars (so no engine's date-series function is needed):
    day 1 is campaign_start. -#}
{% macro window_days() -%}
    {%- set start = modules.datetime.date.fromisoformat(var('campaign_start') | string) -%}
    {%- for n in range(period_days('campaign_start', 'campaign_end')) %}
    {% if not loop.first %}union all {% endif -%}
    select
        cast('{{ (start + modules.datetime.timedelta(days=n)).isoformat() }}' as date)
            as accrual_date,
        {{ n + 1 }} as days_elapsed
    {%- endfor %}
{%- endmacro %}

{#- R3: an order's settlement counts (status settled, settled on or before the cutoff day). -#}
{% macro settles_in_time(status='status', settled_day='settled_day') -%}
    ({{ status }} = 'settled' and {{ settled_day }} <= {{ date_var('settlement_cutoff') }})
{%- endmacro %}

{#- The R11 reward rate as an exact decimal (never a binary float). -#}
{% macro reward_rate() -%}
    cast('{{ var("reward_rate") }}' as decimal(18, 6))
{%- endmacro %}

{#- R6: the day's quota for a follower count, from `quota_tiers` ([min followers, quota]; a run
    refuses tiers that are not integers with ascending minimums and quotas >= 1 before dbt runs,
    orchestration/rule_vars.py). The highest tier whose minimum the count reaches wins; below
    every tier, 0. -#}
{% macro quota_for_followers(followers) -%}
    {%- set tiers = var('quota_tiers') -%}
    {%- if tiers is string -%}{%- set tiers = fromjson(tiers) -%}{%- endif -%}
    case
    {%- for tier in tiers | sort(attribute=0, reverse=true) %}
        when {{ followers }} >= {{ tier[0] | int }} then {{ tier[1] | int }}
    {%- endfor %}
        else 0
    end
{%- endmacro %}

{#- R6: the tier a follower count falls in, as the tier's minimum follower count (null below
    every tier), from the same `quota_tiers` as quota_for_followers. -#}
{% macro quota_tier_for_followers(followers) -%}
    {%- set tiers = var('quota_tiers') -%}
    {%- if tiers is string -%}{%- set tiers = fromjson(tiers) -%}{%- endif -%}
    case
    {%- for tier in tiers | sort(attribute=0, reverse=true) %}
        when {{ followers }} >= {{ tier[0] | int }} then {{ tier[0] | int }}
    {%- endfor %}
    end
{%- endmacro %}
