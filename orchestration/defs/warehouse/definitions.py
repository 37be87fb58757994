from dagster import Definitions

from ...dbt_runner.dagster_bridge import InProcessDbtResource
from .assets import layer_models
from .project import DBT_EXECUTABLE, dbt_project

defs = Definitions(
    assets=layer_models,
    resources={"dbt": InProcessDbtResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
