"""A run that found its disk full: which of its folders is full, said in one line.

A full disk can stop a run anywhere -- DuckDB writing the warehouse or spilling, SQLite writing
Dagster's history, Great Expectations writing results and Data Docs. Nothing is lost: the
serving copy is swapped in only after every check has passed (D23), and the ledger is written
only by finance's own commands. So the user gets one line naming the full folder and saying
that nothing was published, instead of whichever library's traceback came first.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from .formatting import human_bytes
from .settings import Settings

# how the libraries say it: the OS (errno 28), DuckDB, SQLite
_FULL = re.compile(r"No space left on device|database or disk is full", re.I)
# SQLite says "disk I/O error" for a write that found no space (its WAL, its journal), and for a
# real fault of the device too: it counts as a full disk only while the disk is nearly full
_MAYBE_FULL = re.compile(r"disk I/O error", re.I)
NEARLY_FULL_BYTES = 64 * 1024**2


def says_disk_full(exc: BaseException | str, free_bytes: int | None = None) -> bool:
    """Whether an error, or any error it came from, is a write that found no space. SQLite's
    "disk I/O error" is one only when `free_bytes` (the run's fullest folder's free space,
    fullest_folder) is under NEARLY_FULL_BYTES; otherwise it is some other fault, and says so
    itself."""
    nearly_full = free_bytes is not None and free_bytes < NEARLY_FULL_BYTES

    def full(text: str) -> bool:
        return bool(_FULL.search(text) or (nearly_full and _MAYBE_FULL.search(text)))

    if isinstance(exc, str):
        return full(exc)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if full(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def fullest_folder(settings: Settings) -> tuple[Path, int]:
    """The run's folder (warehouse, DuckDB's temp folder, quality results, Dagster's history,
    the serving copy) with the least free space, and that space in bytes."""
    folders = [
        settings.warehouse.parent,
        settings.temp_directory,
        settings.quality_dir,
        settings.dagster_home,
        settings.serving_copy.parent,
    ]
    free = {}
    for folder in folders:
        place = _existing(Path(os.path.abspath(folder)))
        free[folder] = shutil.disk_usage(place).free
    folder = min(free, key=free.get)
    return folder, free[folder]


def disk_full_message(settings: Settings) -> str:
    folder, free = fullest_folder(settings)
    return (
        f"no space left on the disk of {folder} ({human_bytes(free)} free): the run stopped "
        "and nothing was published -- finance's serving copy and the ledger are as they were; "
        "free some space and run again"
    )
