"""The Dagster code location, as `dg dev` loads it. That it loads from the repository root with no
flags is `dg check defs`, run by the README's test command before pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT


def test_asset_graph_runs_from_landing_files_to_marts():
    from dagster import AssetKey

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/orders",
        "staging/stg_orders",
        "intermediate/int_orders_current",
        "marts/account_rewards",
        "marts/reconciliation",
        "marts/quarantine",
    } <= keys
    upstream = {
        k.to_user_string()
        for k in graph.get_ancestor_asset_keys(AssetKey(["marts", "account_rewards"]))
    }
    assert {"raw/orders", "raw/videos", "raw/enrollments", "raw/account_snapshots"} <= upstream


def test_loading_the_code_location_leaves_the_environment_alone(tmp_path):
    """Configuration is a value (D34): importing the definitions reads the environment and
    writes nothing back (it used to export the warehouse settings for dbt's profile)."""
    check = (
        "import os; before = dict(os.environ); import orchestration.definitions; "
        "changed = sorted(k for k in before.keys() | os.environ.keys() "
        "if before.get(k) != os.environ.get(k)); print(changed)"
    )
    env = {**os.environ, "REWARDS_WAREHOUSE": str(tmp_path / "w.duckdb")}
    env.pop("REWARDS_DUCKDB_THREADS", None)
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_the_ui_resources_read_the_variables_that_are_set_through_envvar(tmp_path):
    """`dg dev`: a setting given by a variable reaches its resource as Dagster's EnvVar
    (the UI shows where it comes from; a run reads it when it starts); the others are the
    resolved values."""
    from dagster import EnvVar

    from orchestration.defs.resources import resources_from_settings
    from orchestration.settings import Settings

    environ = {
        "REWARDS_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "REWARDS_DUCKDB_THREADS": "3",
        "REWARDS_SPARK_CONF_DIR": str(tmp_path / "spark-conf"),
        "REWARDS_SPARK_EXECUTOR_MEMORY": "4G",
        "REWARDS_SPARK_RAW_URI": "hdfs://lake/short-video/raw/",
    }
    settings = Settings.from_env(environ)
    resources = resources_from_settings(settings, environ=environ)
    warehouse = resources["warehouse"]
    assert warehouse.path == EnvVar("REWARDS_WAREHOUSE")
    assert warehouse.threads == EnvVar.int("REWARDS_DUCKDB_THREADS")
    assert warehouse.temp_directory == str(tmp_path / "w.tmp")  # derived: a resolved value
    assert resources["landing"].path == str(settings.landing_dir)
    # the Spark configuration folder of submitted applications (D94)
    assert resources["engine"].spark_conf_dir == EnvVar("REWARDS_SPARK_CONF_DIR")
    assert settings.spark.conf_dir == tmp_path / "spark-conf"
    # the local cluster's executors (D97)
    assert resources["engine"].spark_executor_memory == EnvVar("REWARDS_SPARK_EXECUTOR_MEMORY")
    assert settings.spark.executor_mib == 4096
    # where the Spark loader writes the raw tables (D98)
    assert resources["engine"].spark_raw_uri == EnvVar("REWARDS_SPARK_RAW_URI")
    assert settings.spark.raw_root() == "hdfs://lake/short-video/raw"
    # `rewards run` hands the resolved values over, with no variable involved
    resolved = resources_from_settings(settings)
    assert resolved["warehouse"].path == str(tmp_path / "w.duckdb")
    assert resolved["engine"].spark_settings().conf_dir == tmp_path / "spark-conf"
    assert resolved["engine"].spark_executor_memory == "4096m"
    assert resolved["engine"].spark_settings().executor_mib == 4096
    assert resolved["engine"].spark_settings().raw_root() == "hdfs://lake/short-video/raw"
    # unset, the raw tables go under the Spark folder, as a URI the cluster reads
    default = Settings.from_env({"REWARDS_SPARK_DIR": str(tmp_path / "spark")}).spark
    assert default.raw_root() == (tmp_path / "spark" / "raw").as_uri()
    relative = {"REWARDS_SPARK_RAW_URI": "lake/raw"}
    assert Settings.from_env(relative).spark.raw_root() == Path("lake/raw").resolve().as_uri()


@pytest.mark.parametrize("text", ["4", "449m", "4 gb", "-1g", "0.5g", "4t"])
def test_an_executor_heap_the_setting_does_not_take_is_one_line_naming_it(text):
    """REWARDS_SPARK_EXECUTOR_MEMORY (D97): a size in `m` or `g` of at least 450 MiB (Spark's
    minimum for an executor); anything else is refused before any JVM starts."""
    from orchestration.settings import SettingError, SparkSettings

    with pytest.raises(SettingError) as refused:
        SparkSettings.from_env({"REWARDS_SPARK_EXECUTOR_MEMORY": text})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("REWARDS_SPARK_EXECUTOR_MEMORY must be a heap size of at least 450m")
    assert SparkSettings.from_env({"REWARDS_SPARK_EXECUTOR_MEMORY": "450M"}).executor_mib == 450


def test_every_check_has_a_readable_name_and_a_one_line_description_citing_its_rule():
    """What the UI shows beside a dbt check: its dbt test's `name:` (not dbt's generated
    `<test>_<model>_<column>`), and `config.meta.description` (what dagster-dbt shows), one line
    that cites the rule the check guards (R1..R12, docs/rules.md). The GX checks too."""
    import re

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = graph.asset_check_keys
    assert len(keys) >= 90  # every dbt data test and every GX suite is a check
    kinds = ("not_null", "unique", "unique_combination", "accepted_values", "expression_is_true")
    rule = re.compile(r"\bR(1[0-2]|[1-9])\b")
    unreadable = []
    for key in keys:
        spec = graph.get_check_spec(key)
        description = spec.description or ""
        generated = any(key.name.startswith(f"{k}_{key.asset_key.path[-1]}") for k in kinds)
        if generated or not rule.search(description) or "\n" in description:
            unreadable.append(f"{key.asset_key.to_user_string()}:{key.name} ({description!r})")
    assert unreadable == []
    account_rewards = {
        key.name: graph.get_check_spec(key).description
        for key in keys
        if key.asset_key.to_user_string() == "marts/account_rewards"
    }
    assert account_rewards["new_entrant_iff_no_baseline_gmv"].startswith("R8:")
    assert "one_reward_per_account" in account_rewards
