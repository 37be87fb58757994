"""The dbt project: where it is and its manifest (its rule parameters, the dbt vars:
orchestration/rule_vars.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtProject

from ...dbt_runner import parse
from ...settings import DBT_PROJECT_DIR

# The dbt installed beside this interpreter, so `.venv/bin/rewards` works without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_SOURCE_DIRS = ("models", "macros", "tests")


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in _SOURCE_DIRS:
        sources += (DBT_PROJECT_DIR / folder).rglob("*")
    return any(p.is_file() and p.stat().st_mtime > built for p in sources)


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files.

    `dagster dev` would do this through `prepare_if_dev`; the CLI and the tests need it too.
    """
    manifest = dbt_project.manifest_path
    if not _manifest_is_stale(manifest):
        return manifest
    # the profile's defaults: this manifest names the code location's assets, not a warehouse
    parse({}, manifest.parent, unless=lambda: not _manifest_is_stale(manifest))
    return manifest
