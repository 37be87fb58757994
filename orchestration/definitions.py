"""The Dagster code location: `dagster dev` (from the repository root) loads `defs` from here."""

from dagster import Definitions, define_asset_job

from .defs.landing.definitions import defs as landing_defs
from .defs.resources import resources_from_settings
from .defs.warehouse.definitions import defs as warehouse_defs
from .settings import Settings

settings = Settings.from_env()
settings.export_to_env()  # the dbt subprocess reads the same warehouse path (profiles.yml)

rewards_job = define_asset_job(
    "rewards",
    description="Load the landing files and build every model: the whole reward warehouse.",
)

defs = Definitions.merge(
    landing_defs,
    warehouse_defs,
    Definitions(jobs=[rewards_job], resources=resources_from_settings(settings)),
)
