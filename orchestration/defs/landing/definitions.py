from dagster import Definitions

from .assets import landing_assets

defs = Definitions(assets=landing_assets)
