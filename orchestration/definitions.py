"""The Dagster code location (`[tool.dg.project]` in pyproject.toml): `dg dev` and `dg check defs`
from the repository root load `defs` from here. The domains (landing, warehouse, quality,
serving, automation) are loaded from orchestration/defs/ by Dagster's `load_from_defs_folder`:
a domain folder's `definitions.py` gives its definitions, a module's own definitions (the
schedule and the sensor) are found in it. This module adds what depends on one configuration:
the resources, the loggers, the executor and the job."""

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from dagster import (
    Definitions,
    LoggerDefinition,
    define_asset_job,
    in_process_executor,
    load_from_defs_folder,
)

from .defs.resources import resources_from_settings
from .rule_vars import RuleVars
from .settings import Settings

rewards_job = define_asset_job(
    "rewards",
    description=(
        "Load and check the landing files, build every model in one dbt build with its tests, "
        "check the warehouse's stages and publish finance's serving copy: the whole reward "
        "warehouse."
    ),
)


def build_defs(
    settings: Settings,
    loggers: dict[str, LoggerDefinition] | None = None,
    environ: Mapping[str, str] | None = None,
    rule_vars: RuleVars | None = None,
) -> Definitions:
    """The whole code location for one configuration; `rewards run` builds it the same way."""
    return Definitions.merge(
        domains(),
        Definitions(
            jobs=[rewards_job],
            resources=resources_from_settings(settings, environ, rule_vars),
            loggers=loggers,
            # One process at a time: an embedded DuckDB file takes a single writer, so the raw
            # loads and dbt must not run in parallel processes (the UI's default executor).
            executor=in_process_executor,
        ),
    )


@cache
def domains() -> Definitions:
    """The assets, checks, schedule and sensor of orchestration/defs/, loaded once a process."""
    return load_from_defs_folder(path_within_project=Path(__file__).parent)


# `dg dev`: the settings this process's environment gives; the resources read the variables
# that are set through Dagster's EnvVar (resources.resources_from_settings)
defs = build_defs(Settings.from_env(), environ=os.environ)
