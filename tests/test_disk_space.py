"""A full disk is one line (orchestration/disk_space.py): the errors each library raises when a
write finds no space are recognised, through the chain of causes, and the line names the run's
fullest folder and says nothing was published. (Probed for real on a 15 MB tmpfs: the run stops
in the serving copy's write, the line is printed, and after the disk grows the rerun closes;
docs/benchmarks.md, "Faults".)"""

from __future__ import annotations

import errno
import sqlite3

import duckdb

from orchestration.disk_space import disk_full_message, fullest_folder, says_disk_full
from orchestration.formatting import human_bytes
from orchestration.settings import Settings


def test_the_libraries_ways_of_saying_the_disk_is_full_are_recognised():
    assert says_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert says_disk_full(duckdb.IOException('Could not write file "x": No space left on device'))
    assert says_disk_full(sqlite3.OperationalError("database or disk is full"))
    try:  # a wrapper whose own message says nothing, raised from the real cause
        try:
            raise OSError(errno.ENOSPC, "write failed")
        except OSError as cause:
            raise RuntimeError("step failed") from cause
    except RuntimeError as wrapped:
        assert says_disk_full(wrapped)
    assert says_disk_full("run 1 failed: serving__finance_copy: ... No space left on device")
    assert not says_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not says_disk_full(ValueError("reward_rate=2: must be in (0, 1]"))


def test_sqlites_disk_io_error_is_a_full_disk_only_while_the_disk_is_nearly_full():
    """SQLite says "disk I/O error" when its WAL finds no space, and for a failing device too:
    with a gigabyte free it is that other fault, and keeps its own message."""
    io_error = sqlite3.OperationalError("disk I/O error")
    assert says_disk_full(io_error, free_bytes=1024**2)
    assert not says_disk_full(io_error, free_bytes=1024**3)
    assert not says_disk_full(io_error)
    assert says_disk_full("run 1 failed: gx_raw: (sqlite3.OperationalError) disk I/O error", 0)
    assert says_disk_full(sqlite3.OperationalError("database or disk is full"), 1024**3)


def test_the_line_names_the_fullest_folder_and_says_nothing_was_published(tmp_path):
    settings = Settings.from_env({}, warehouse=tmp_path / "w" / "warehouse.duckdb")
    folder, free = fullest_folder(settings)  # nothing exists yet: measured on what does
    assert folder in {
        settings.warehouse.parent,
        settings.temp_directory,
        settings.quality_dir,
        settings.dagster_home,
        settings.serving_copy.parent,
    }
    assert free > 0
    line = disk_full_message(settings)
    assert line.startswith(f"no space left on the disk of {folder} (")
    assert "nothing was published" in line and "\n" not in line


def test_sizes_read_as_people_read_them():
    assert [human_bytes(n) for n in (0, 512, 1536, 5 * 1024**3)] == [
        "0 B",
        "512 B",
        "1.5 KB",
        "5.0 GB",
    ]
