from dagster import Definitions

from .checks import quality_checks

defs = Definitions(asset_checks=quality_checks)
