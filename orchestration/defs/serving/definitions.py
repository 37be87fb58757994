from dagster import Definitions

from .assets import finance_copy

defs = Definitions(assets=[finance_copy])
