"""The folders a run writes, tried before it starts: a read-only share is one line, not a
traceback from whichever library writes first (D57)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .settings import Settings


class FolderNotWritable(Exception):
    """A folder a run writes refuses the write; the message names it and why."""


def run_folders(settings: Settings) -> dict[Path, str]:
    """Each folder a run writes -> what it writes there (the same folder may hold several)."""
    folders: dict[Path, list[str]] = {}
    for folder, what in [
        (settings.warehouse.parent, "the warehouse"),
        (settings.serving_copy.parent, "finance's serving copy"),
        (settings.dagster_home, "its Dagster instance"),
        (settings.quality_dir, "its quality results"),
        (settings.temp_directory, "DuckDB's spill files"),
    ]:
        folders.setdefault(Path(os.path.abspath(folder)), []).append(what)
    return {folder: ", ".join(what) for folder, what in folders.items()}


def check_writable(settings: Settings) -> None:
    """Create each run folder if need be and a file in it, as the run will: FolderNotWritable,
    in the operating system's words (a read-only file system, permission denied), for the first
    that refuses, naming what the run writes there and under it. Tried, not judged from
    permission bits, which say nothing of a read-only mount (and root passes them all)."""
    folders = run_folders(settings)
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder, prefix=".rewards-write-test-"):
                pass
        except OSError as exc:
            inside = [what for other, what in folders.items() if other.is_relative_to(folder)]
            things = ", ".join(inside)
            if "," in things:
                head, _, last = things.rpartition(", ")
                things = f"{head} and {last}"
            raise FolderNotWritable(
                f"cannot write to {folder} ({(exc.strerror or str(exc)).lower()}): a run writes "
                f"{things} there; copy the warehouse to a writable folder and run it there "
                "(--warehouse)"
            ) from exc
