"""The profile written for one warehouse or Spark folder (orchestration/dbt_runner/profiles.py)."""

from __future__ import annotations

import os

import yaml

from orchestration.dbt_runner.profiles import PROFILE_NAME, profile_output, write_profile
from orchestration.spark_target import SPARK_DIR_ENV


def test_spark_profile_puts_the_folder_where_profiles_yml_reads_it(tmp_path):
    folder = tmp_path / "a$b c"
    written = write_profile(tmp_path / "profile", "spark", {SPARK_DIR_ENV: str(folder)})
    profile = yaml.safe_load((written / "profiles.yml").read_text(encoding="utf-8"))
    output = profile[PROFILE_NAME]["outputs"]["spark"]
    assert profile[PROFILE_NAME]["target"] == "spark"
    params = output["server_side_parameters"]
    assert params["spark.sql.warehouse.dir"] == f"{folder}/warehouse"
    assert f"-Dderby.system.home={folder} " in params["spark.driver.extraJavaOptions"]
    assert "env_var" not in yaml.safe_dump(output)  # nothing left to read from the environment


def test_a_value_jinja_would_read_is_kept_literally():
    output = profile_output("duckdb", {"REWARDS_WAREHOUSE": "/w/{{x}}/w.duckdb"})
    assert output["path"] == "{% raw %}/w/{{x}}/w.duckdb{% endraw %}"


def test_a_value_not_given_is_read_as_env_var_would_read_it():
    output = profile_output("duckdb", {"REWARDS_WAREHOUSE": "/w/w.duckdb"})
    assert output["path"] == "/w/w.duckdb"
    # profiles.yml's default, unless the environment sets it (as dbt's env_var() would read)
    expected = os.environ.get("REWARDS_DUCKDB_MEMORY_LIMIT", "5GB")
    assert output["config_options"]["memory_limit"] == expected
