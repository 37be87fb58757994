"""The rule parameters (R1-R12) as dbt vars: declared once in dbt_project.yml, read and
validated here. Light on purpose (no dbt or Dagster import), so the CLI answers a mistyped
`--var` at once."""

from __future__ import annotations

from typing import Any

import yaml

from .settings import DBT_PROJECT_DIR


class UnknownVarError(ValueError):
    pass


def rule_var_defaults() -> dict[str, Any]:
    """The rulebook parameters as declared once in dbt_project.yml."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml") as f:
        return dict(yaml.safe_load(f)["vars"])


def parse_var_overrides(pairs: dict[str, str]) -> dict[str, Any]:
    """Validate `key=value` overrides against the declared vars; values are YAML scalars/lists."""
    known = rule_var_defaults()
    unknown = sorted(set(pairs) - set(known))
    if unknown:
        raise UnknownVarError(
            f"unknown var(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    parsed: dict[str, Any] = {}
    for key, value in pairs.items():
        parsed[key] = yaml.safe_load(value)
        if isinstance(parsed[key], float):
            # Decimals stay strings so they reach SQL exactly as typed (R11: never a float).
            parsed[key] = value
    return parsed
