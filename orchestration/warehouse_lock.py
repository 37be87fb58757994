"""One process at a time in the warehouse file, for the whole length of a run.

DuckDB locks its file only while a connection is open, and a run opens and closes the warehouse
step by step (dbt has to take the file between the loader and the checks). In such a gap
another process -- `rewards simulate` or `rewards spark` reading the raw tables, or a second
run -- could open the file, and the run's next step would then fail to get its write lock.
So a run holds an advisory lock on `<warehouse>.lock` from its first step to its end
(`WarehouseResource.setup_for_execution`; `rewards run` takes it before the run starts and
keeps it until it has read the run's summary, `holding_for_run`), and the commands that read
the warehouse itself take the same lock: they refuse while a run holds it, and a run that
starts while one of them reads, or while another run holds it, waits for it to finish. The
operating system drops the lock when its process dies, so a killed run leaves nothing to clean
up. Finance's reads (explain, export, publish) use the serving copy and never take this lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from .file_lock import FileLock

# How long a run waits for a reader of the warehouse (a simulation at 100M orders takes about as
# long as a run) before it fails, saying who holds the warehouse.
RUN_WAIT_SECONDS = 3 * 3600.0
_SAY_EVERY_SECONDS = 60.0


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


class WarehouseLock:
    """The advisory lock on `<warehouse>.lock` (file_lock.FileLock), with who holds it written
    in the file."""

    def __init__(self, warehouse: Path) -> None:
        self.path = lock_path(warehouse)
        self._lock = FileLock(self.path)

    def holder(self) -> str:
        """Who holds it, as the holder wrote it (empty if nobody does)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def acquire(
        self, holder: str, wait_seconds: float = 0.0, log: Callable[[str], None] | None = None
    ) -> None:
        """Take the lock, waiting up to `wait_seconds` for its holder; WarehouseBusy after."""

        def say_waiting() -> None:
            if log is not None:
                log(
                    f"waiting for {self.holder() or 'another process'} to finish with the warehouse"
                )

        try:
            self._lock.acquire(wait_seconds, say_waiting, _SAY_EVERY_SECONDS)
        except TimeoutError:
            waited = f" after waiting {wait_seconds:.0f}s" if wait_seconds else ""
            raise WarehouseBusy(
                f"the warehouse is in use by {self.holder() or 'another process'}"
                f"{waited} ({self.path})"
            ) from None
        f = self._lock.file
        f.seek(0)
        f.truncate()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        f.write(f"{holder} (pid {os.getpid()}, since {since})\n")
        f.flush()

    def release(self) -> None:
        if self._lock.file is None:
            return
        with contextlib.suppress(OSError):
            self._lock.file.truncate(0)  # nobody holds it now
        self._lock.release()


@contextlib.contextmanager
def holding_warehouse(
    warehouse: Path,
    holder: str,
    wait_seconds: float = 0.0,
    log: Callable[[str], None] | None = None,
) -> Iterator[None]:
    lock = WarehouseLock(warehouse)
    lock.acquire(holder, wait_seconds, log)
    try:
        yield
    finally:
        lock.release()


# The warehouses whose lock the process that starts a run holds for it (`holding_for_run`), by
# lock file and thread: that run's own resource, set up in the same thread, must not wait for it.
_RUN_HOLDS: dict[tuple[str, int], str] = {}


def _run_key(warehouse: Path) -> tuple[str, int]:
    return os.path.realpath(lock_path(warehouse)), threading.get_ident()


@contextlib.contextmanager
def holding_for_run(
    warehouse: Path,
    holder: str,
    wait_seconds: float = 0.0,
    log: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """The lock taken by the process that starts a run (`rewards run`), from before its first
    step until it has read what the run wrote (its summary, D56): released only then, so a run
    waiting for the warehouse never takes it in between. The run's `warehouse` resource, set up
    in this thread meanwhile, finds it held for it (`held_for_run`) and takes nothing."""
    with holding_warehouse(warehouse, holder, wait_seconds, log):
        key = _run_key(warehouse)
        _RUN_HOLDS[key] = holder
        try:
            yield
        finally:
            _RUN_HOLDS.pop(key, None)


def held_for_run(warehouse: Path) -> bool:
    """Whether this thread holds the warehouse for the run it is executing (`holding_for_run`)."""
    return _run_key(warehouse) in _RUN_HOLDS


def duckdb_writer_pid(warehouse: Path) -> int | None:
    """The process holding DuckDB's own write lock on the warehouse file (an fcntl lock), asked
    with F_GETLK, which takes no lock itself: probing must not get in a run's way."""
    if not warehouse.exists():
        return None
    probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    with open(warehouse, "rb") as f:
        answer = fcntl.fcntl(f.fileno(), fcntl.F_GETLK, probe)
    lock_type, _, _, _, pid = struct.unpack("hhqqi4x", answer)
    return pid if lock_type == fcntl.F_WRLCK else None
