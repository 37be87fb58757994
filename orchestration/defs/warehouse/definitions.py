from dagster import Definitions

from .assets import layer_models
from .dbt_resource import RewardsDbtCliResource
from .project import DBT_EXECUTABLE, dbt_project

defs = Definitions(
    assets=layer_models,
    resources={
        "dbt": RewardsDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    },
)
