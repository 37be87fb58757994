"""dbt's own unit tests (R2, R6, R7, R11 -- exact up to decimal(38,2), D59 -- and the accrual's
R11 in the models' YAML), run by dbt without the pipeline: the models are built once, empty, from
a landing of header-only files (the loader and dbt, no Dagster), so dbt can read the upstream
relations' columns; then `dbt test` runs the unit tests.
"""

from __future__ import annotations

import re

from support.dbt_build import build, dbt
from support.landing_builder import COLUMNS


def test_dbt_unit_tests_pass(tmp_path):
    landing = tmp_path / "landing"
    for dataset, columns in COLUMNS.items():
        (landing / dataset).mkdir(parents=True)
        (landing / dataset / f"{dataset}.csv").write_text(",".join(columns) + "\n")
    warehouse = tmp_path / "unit.duckdb"
    build(landing, warehouse)
    log = dbt(warehouse, ["test", "--select", "test_type:unit"])
    passed = set(re.findall(r" PASS (?:\S+::)?(\w+) ", re.sub(r"\x1b\[[0-9;]*m", "", log)))
    assert passed == {
        "r2_latest_version_wins_duplicates_collapse_and_ties_conflict",
        "r6_tier_boundaries_ranking_and_deleted_videos",
        "r7_r11_exact_decimals_floor_and_cap",
        "r7_r11_exact_up_to_the_top_of_decimal_38_2",
        "r11_floor_is_exact_when_the_product_has_eight_decimal_places",
        "r11_accrual_caps_each_account_and_projects_half_up",
    }, passed
