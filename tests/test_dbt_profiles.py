"""The profile written for one warehouse or Spark folder (orchestration/dbt_runner/profiles.py)."""

from __future__ import annotations

import os

import pytest
import yaml

from orchestration.dbt_runner.profiles import PROFILE_NAME, profile_output, write_profile
from orchestration.settings import SPARK_DIR_ENV
from orchestration.spark.build import spark_profile
from orchestration.spark.cluster import ThriftEndpoint


def test_spark_profile_reaches_the_thrift_server_given(tmp_path):
    endpoint = ThriftEndpoint("10.1.2.3", 10001, timezone="Asia/Shanghai")
    written = spark_profile(tmp_path / "spark", endpoint)
    profile = yaml.safe_load((written / "profiles.yml").read_text(encoding="utf-8"))
    output = profile[PROFILE_NAME]["outputs"]["spark"]
    assert profile[PROFILE_NAME]["target"] == "spark"
    assert (output["method"], output["host"], output["port"]) == ("thrift", "10.1.2.3", 10001)
    assert output["poll_interval"] == 1  # not dbt-spark's 5 s per statement
    params = output["server_side_parameters"]
    # on every session, whatever the server's own configuration: exact decimals, R1's zone
    assert params["set:hiveconf:spark.sql.decimalOperations.allowPrecisionLoss"] == "false"
    assert params["set:hiveconf:spark.sql.session.timeZone"] == "Asia/Shanghai"
    assert "env_var" not in yaml.safe_dump(output)  # nothing left to read from the environment


def test_spark_session_profile_puts_the_folder_where_profiles_yml_reads_it(tmp_path):
    folder = tmp_path / "a$b c"
    written = write_profile(tmp_path / "profile", "spark_session", {SPARK_DIR_ENV: str(folder)})
    profile = yaml.safe_load((written / "profiles.yml").read_text(encoding="utf-8"))
    params = profile[PROFILE_NAME]["outputs"]["spark_session"]["server_side_parameters"]
    assert params["spark.sql.warehouse.dir"] == f"{folder}/warehouse"
    assert f"-Dderby.system.home={folder} " in params["spark.driver.extraJavaOptions"]


def test_a_port_read_as_a_number(tmp_path):
    output = profile_output("spark", {"REWARDS_SPARK_THRIFT_PORT": "10002"})
    assert output["port"] == 10002
    with pytest.raises(ValueError, match="REWARDS_SPARK_THRIFT_PORT"):
        profile_output("spark", {"REWARDS_SPARK_THRIFT_PORT": "ten"})


def test_a_value_jinja_would_read_is_kept_literally():
    output = profile_output("duckdb", {"REWARDS_WAREHOUSE": "/w/{{x}}/w.duckdb"})
    assert output["path"] == "{% raw %}/w/{{x}}/w.duckdb{% endraw %}"


def test_a_value_not_given_is_read_as_env_var_would_read_it():
    output = profile_output("duckdb", {"REWARDS_WAREHOUSE": "/w/w.duckdb"})
    assert output["path"] == "/w/w.duckdb"
    # profiles.yml's default, unless the environment sets it (as dbt's env_var() would read)
    expected = os.environ.get("REWARDS_DUCKDB_MEMORY_LIMIT", "5GB")
    assert output["config_options"]["memory_limit"] == expected
