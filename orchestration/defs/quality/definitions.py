from dagster import Definitions

from .checks import quality_checks
from .data_docs_sensor import data_docs_after_failure, data_docs_after_success

defs = Definitions(
    asset_checks=quality_checks,
    sensors=[data_docs_after_success, data_docs_after_failure],
)
