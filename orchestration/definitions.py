"""The Dagster code location: `dagster dev` (from the repository root) loads `defs` from here."""

import os
from collections.abc import Mapping

from dagster import Definitions, LoggerDefinition, define_asset_job, in_process_executor

# Modules, not their `defs`: Dagster loads the one Definitions object found at module scope.
from .defs.automation import landing_files_sensor, rewards_daily
from .defs.landing import definitions as landing
from .defs.quality import definitions as quality
from .defs.resources import resources_from_settings
from .defs.serving import definitions as serving
from .defs.warehouse import definitions as warehouse
from .rule_vars import RuleVars
from .settings import Settings

rewards_job = define_asset_job(
    "rewards",
    description=(
        "Load the landing files and build every model, layer by layer, each guarded by its "
        "quality checks: the whole reward warehouse."
    ),
)


def build_defs(
    settings: Settings,
    loggers: dict[str, LoggerDefinition] | None = None,
    data_docs: str = "each_check",
    environ: Mapping[str, str] | None = None,
    rule_vars: RuleVars | None = None,
) -> Definitions:
    """The whole code location for one configuration; `rewards run` builds it the same way."""
    return Definitions.merge(
        landing.defs,
        warehouse.defs,
        quality.defs,
        serving.defs,
        Definitions(
            jobs=[rewards_job],
            schedules=[rewards_daily],  # both off by default (defs/automation.py)
            sensors=[landing_files_sensor],
            resources=resources_from_settings(settings, data_docs, environ, rule_vars),
            loggers=loggers,
            # One process at a time: an embedded DuckDB file takes a single writer, so the raw
            # loads and dbt must not run in parallel processes (the UI's default executor).
            executor=in_process_executor,
        ),
    )


# `dagster dev`: the settings this process's environment gives; the resources read the variables
# that are set through Dagster's EnvVar (resources.resources_from_settings)
defs = build_defs(Settings.from_env(), environ=os.environ)
