"""The dbt project: where it is, its manifest, and its rule parameters (dbt vars)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from dagster_dbt import DbtProject

from ...settings import DBT_PROJECT_DIR

# The dbt installed beside this interpreter, so `.venv/bin/rewards` works without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_SOURCE_DIRS = ("models", "macros", "tests")


class UnknownVarError(ValueError):
    pass


def rule_var_defaults() -> dict[str, Any]:
    """The rulebook parameters as declared once in dbt_project.yml."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml") as f:
        return dict(yaml.safe_load(f)["vars"])


def parse_var_overrides(pairs: dict[str, str]) -> dict[str, Any]:
    """Validate `key=value` overrides against the declared vars; values are YAML scalars/lists."""
    known = rule_var_defaults()
    unknown = sorted(set(pairs) - set(known))
    if unknown:
        raise UnknownVarError(
            f"unknown var(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    parsed: dict[str, Any] = {}
    for key, value in pairs.items():
        parsed[key] = yaml.safe_load(value)
        if isinstance(parsed[key], float):
            # Decimals stay strings so they reach SQL exactly as typed (R11: never a float).
            parsed[key] = value
    return parsed


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
    if _manifest_is_stale(manifest):
        cmd = [DBT_EXECUTABLE, "parse", "--quiet",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(manifest.parent)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    return manifest


def vars_json(overrides: dict[str, Any]) -> str:
    return json.dumps(overrides, sort_keys=True)
