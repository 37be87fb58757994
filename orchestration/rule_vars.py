"""The rule parameters (R1-R12) as dbt vars: declared once in dbt_project.yml, read and
validated here. Light on purpose (no dbt or Dagster import), so the CLI answers a mistyped
`--var` at once."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import yaml

from .contract import DATE_PATTERN
from .settings import DBT_PROJECT_DIR


class RuleVarError(ValueError):
    """A rule var the run cannot use; the message is one line naming it."""


class UnknownVarError(RuleVarError):
    pass


class InvalidVarError(RuleVarError):
    pass


DATE_VARS = (
    "baseline_start",
    "baseline_end",
    "campaign_start",
    "campaign_end",
    "settlement_cutoff",
)
# The order every run needs (R3, R5): the baseline before the window, settlements after it
DATE_ORDER = "baseline_start ≤ baseline_end < campaign_start ≤ campaign_end ≤ settlement_cutoff"
INTEGER_VARS = ("reward_cap_points", "min_followers")
# macros/rule_vars.sql casts the rate to decimal(18, 6): more places would be rounded away
RATE_PLACES = 6
_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(DATE_PATTERN)
_RATE = re.compile(r"[0-9]+(\.[0-9]+)?")


def period_days(values: Mapping[str, Any], start_var: str, end_var: str) -> int:
    """Days from the date var `start_var` to `end_var`, both inclusive (the window's 40, the
    baseline's 92: R7), as dbt's `period_days` macro derives them."""
    start = date.fromisoformat(str(values[start_var]))
    return (date.fromisoformat(str(values[end_var])) - start).days + 1


def rule_var_defaults() -> dict[str, Any]:
    """The rulebook parameters as declared once in dbt_project.yml (a fresh copy each call)."""
    return json.loads(_declared_vars())


@lru_cache(maxsize=1)
def _declared_vars() -> str:
    """dbt_project.yml's vars, read once per process (as JSON text: callers get their own copy)."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml") as f:
        return json.dumps(dict(yaml.safe_load(f)["vars"]), default=str)


@dataclass(frozen=True)
class RuleVars:
    """The rule vars of one run, resolved once: what dbt builds with, the checks judge by and
    the serving copy records. `overrides` are this run's typed overrides (what dbt gets as
    `--vars`); `values` are every var, dbt_project.yml's with the overrides. Kept as sorted JSON
    text (`overrides_json` is dbt's `--vars` as it is), so the value is immutable and hashable:
    what is derived from it (the quality suites) is built once per value."""

    values_json: str
    overrides_json: str = "{}"

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.values_json)

    @property
    def overrides(self) -> dict[str, Any]:
        return json.loads(self.overrides_json)


def resolve_rule_vars(pairs: Mapping[str, str], base: dict[str, Any] | None = None) -> RuleVars:
    """`parse_var_overrides` (a RuleVarError, one line, for a bad var) into a frozen RuleVars."""
    parsed = parse_var_overrides(dict(pairs), base=base)
    values = {**rule_var_defaults(), **(base or {}), **parsed}
    return RuleVars(json.dumps(values, sort_keys=True), json.dumps(parsed, sort_keys=True))


def parse_var_overrides(
    pairs: dict[str, str], base: dict[str, Any] | None = None, together: bool = True
) -> dict[str, Any]:
    """Overrides (`key=value`) as typed values, refused with a RuleVarError, one line, when a
    key is not a declared var or a value breaks its var's rule (validate_rule_vars); with
    `together`, also when the vars they give with `base` (dbt_project.yml's when None) break the
    order of the dates."""
    known = rule_var_defaults()
    unknown = sorted(set(pairs) - set(known))
    if unknown:
        raise UnknownVarError(
            f"unknown var(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    parsed: dict[str, Any] = {}
    for key, value in pairs.items():
        # Values stay as typed: YAML would read `1_000`, `+5` or `0x10` as numbers, `2025-13-01`
        # as an error and a decimal as a binary float (R11: never a float). Only the tiers are
        # a YAML (or JSON) list.
        text = str(value).strip()
        if key == "quota_tiers":
            try:
                parsed[key] = yaml.safe_load(text)
            except yaml.YAMLError:
                parsed[key] = text  # refused below, naming the var
        elif key in INTEGER_VARS and _DIGITS.fullmatch(text):
            parsed[key] = int(text)
        else:
            parsed[key] = text
    if together:
        validate_rule_vars({**known, **(base or {}), **parsed})
    else:
        validate_rule_vars(parsed, together=False)
    return parsed


def validate_rule_vars(values: dict[str, Any], together: bool = True) -> None:
    """Refuse rule vars a run cannot use, with one line naming each bad one and what it accepts:
    dates `YYYY-MM-DD`; `reward_rate` a decimal in (0, 1] with at most six places;
    `reward_cap_points` and `min_followers` integers ≥ 0; `timezone` an IANA zone name;
    `quota_tiers` [min followers, quota] pairs with ascending minimums ≥ 0 and quotas ≥ 1. With
    `together` (`values` then holds every var), the dates must also be in the order DATE_ORDER."""
    problems = [
        problem for name, value in values.items() if (problem := _value_problem(name, value))
    ]
    if together and not problems:
        days = [date.fromisoformat(str(values[name])) for name in DATE_VARS]
        if not all(a <= b for a, b in itertools.pairwise(days)) or not days[1] < days[2]:
            shown = ", ".join(f"{n}={values[n]}" for n in DATE_VARS)
            problems.append(f"the dates must satisfy {DATE_ORDER}; got {shown}")
    if problems:
        raise InvalidVarError("; ".join(problems))


def _value_problem(name: str, value: Any) -> str | None:
    """What is wrong with one var's value on its own, or None."""
    if name in DATE_VARS:
        if not _DATE.fullmatch(str(value)) or _date_or_none(str(value)) is None:
            return f"{name}={value}: must be a date YYYY-MM-DD"
    elif name == "reward_rate":
        rate = str(value).strip()
        if (
            not _RATE.fullmatch(rate)
            or not 0 < Decimal(rate) <= 1
            or len(rate.partition(".")[2]) > RATE_PLACES
        ):
            return (
                f"reward_rate={value}: must be a decimal in (0, 1] with at most "
                f"{RATE_PLACES} decimal places, e.g. 0.015"
            )
    elif name in INTEGER_VARS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name}={value}: must be an integer ≥ 0"
    elif name == "timezone":
        if str(value) not in _time_zones():
            return f"timezone={value}: must be an IANA time zone name, e.g. Asia/Shanghai"
    elif name == "quota_tiers" and not _valid_tiers(value):
        return (
            f"quota_tiers={_shown(value)}: must be a list of [min followers, videos per "
            "day] pairs of integers, the minimums ≥ 0 and ascending, the quotas ≥ 1, "
            "e.g. [[0, 1], [1000, 2]]"
        )
    return None


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _valid_tiers(tiers: Any) -> bool:
    if isinstance(tiers, str):
        try:
            tiers = json.loads(tiers)
        except ValueError:
            return False
    if not isinstance(tiers, list) or not tiers:
        return False
    for tier in tiers:
        if (
            not isinstance(tier, list)
            or len(tier) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in tier)
        ):
            return False
    minimums = [tier[0] for tier in tiers]
    return (
        minimums[0] >= 0
        and all(a < b for a, b in itertools.pairwise(minimums))
        and all(tier[1] >= 1 for tier in tiers)
    )


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """The IANA zone names of the engine that computes the Beijing days (DuckDB's ICU)."""
    import duckdb

    with duckdb.connect() as con:
        return frozenset(
            name for (name,) in con.execute("select name from pg_timezone_names()").fetchall()
        )
