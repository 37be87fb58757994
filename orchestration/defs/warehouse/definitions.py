from dagster import Definitions

from .assets import dbt_models

defs = Definitions(assets=[dbt_models])
