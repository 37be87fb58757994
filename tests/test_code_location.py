"""The Dagster code location loads the way `dagster dev` loads it: from the repo root, no flags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import REPO_ROOT


def test_dagster_loads_the_code_location_without_flags(tmp_path):
    dagster = str(Path(sys.executable).parent / "dagster")
    done = subprocess.run(
        [dagster, "definitions", "validate"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Validation successful for code location short_video_rewards" in done.stdout


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
