"""dbt's own unit tests (R2, R6, R7, R11 in the models' YAML) and data tests, run by dbt."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from orchestration.defs.warehouse.project import DBT_EXECUTABLE
from orchestration.settings import DBT_PROJECT_DIR, TEMP_DIR_ENV, WAREHOUSE_ENV


def test_dbt_unit_tests_pass(rulebook_run, tmp_path):
    # a copy of the rulebook warehouse, so dbt can introspect the upstream relations
    warehouse = tmp_path / "unit.duckdb"
    shutil.copy(rulebook_run["warehouse"], warehouse)
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse), TEMP_DIR_ENV: str(tmp_path / "spill")}
    done = subprocess.run(
        [DBT_EXECUTABLE, "test", "--select", "test_type:unit", "--project-dir",
         str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target")],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    passed = set(re.findall(r" PASS (?:\S+::)?(\w+) ", re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)))
    assert passed == {"r2_latest_version_wins_duplicates_collapse_and_ties_conflict",
                      "r6_tier_boundaries_ranking_and_deleted_videos",
                      "r7_r11_exact_decimals_floor_and_cap",
                      "r11_floor_is_exact_when_the_product_has_eight_decimal_places"}, passed
