"""The dbt project: where it is and its manifest (its rule parameters, the dbt vars:
orchestration/rule_vars.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from ...dbt_runner import parse
from ...settings import DBT_PROJECT_DIR

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

    `dg dev` would do this through `prepare_if_dev`; the CLI and the tests need it too. It is
    parsed with the project's own profiles.yml (its defaults): this manifest names the code
    location's assets, not a warehouse."""
    manifest = dbt_project.manifest_path
    if not _manifest_is_stale(manifest):
        return manifest
    parse(DBT_PROJECT_DIR, manifest.parent, unless=lambda: not _manifest_is_stale(manifest))
    return manifest


@lru_cache(maxsize=1)
def _load(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_manifest() -> dict[str, Any]:
    """The code location's manifest, as JSON (read again only when it changed)."""
    path = ensure_manifest()
    return _load(str(path), path.stat().st_mtime_ns)
