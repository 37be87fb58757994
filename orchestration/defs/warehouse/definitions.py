from dagster import Definitions
from dagster_dbt import DbtCliResource

from .assets import layer_models
from .project import DBT_EXECUTABLE, dbt_project

defs = Definitions(
    assets=layer_models,
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
