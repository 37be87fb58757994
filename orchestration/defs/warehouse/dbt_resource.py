"""The dbt CLI resource, without a `dbt --version` subprocess per step."""

from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging.version import Version


class RewardsDbtCliResource(DbtCliResource):
    """dagster-dbt asks the dbt executable for its version (`dbt --version`, a ~4 s Python
    start-up) once per resource instance, i.e. once per layer step. Our executable is the
    dbt-core installed beside this interpreter (project.DBT_EXECUTABLE), so its version is the
    imported package's."""

    @property
    def _cli_version(self) -> Version:
        return DBT_PYTHON_VERSION
