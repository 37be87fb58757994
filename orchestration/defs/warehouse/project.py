"""The dbt project: where it is and its manifest (its rule parameters, the dbt vars:
orchestration/rule_vars.py)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

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


@contextlib.contextmanager
def parse_lock(target_dir: Path) -> Iterator[None]:
    """Hold `target_dir` while dbt parses into it: dbt reads and rewrites its partial-parse
    state there, and two processes parsing at once (`dagster dev` and `rewards run`, or two
    test workers) could read each other's half-written file."""
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files.

    `dagster dev` would do this through `prepare_if_dev`; the CLI and the tests need it too.
    """
    manifest = dbt_project.manifest_path
    if not _manifest_is_stale(manifest):
        return manifest
    with parse_lock(manifest.parent):
        if not _manifest_is_stale(manifest):  # another process parsed while this one waited
            return manifest
        cmd = [DBT_EXECUTABLE, "parse", "--quiet",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(manifest.parent)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    return manifest


def dbt_target_dir(warehouse: str | Path) -> Path:
    """Where dbt keeps its state for builds of `warehouse`: `<warehouse>.dbt/`."""
    return Path(warehouse).with_suffix(".dbt")


def vars_json(overrides: dict[str, Any]) -> str:
    return json.dumps(overrides, sort_keys=True)
