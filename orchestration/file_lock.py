"""The one advisory file lock of the project: an exclusive `flock` on a file, released when the
process holding it dies (nothing to clean up after a kill). Used by the warehouse lock (a run
holds `<warehouse>.lock`, warehouse_lock.py), by dbt's parse (one process rewrites a target
folder's partial-parse state at a time, dbt_runner.parse) and by the opening of the Dagster
instance (one process creates its storage, instance.open_instance)."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

POLL_SECONDS = 0.5


class FileLock:
    """An exclusive lock on `path`; `file` is the open lock file while it is held, for a holder
    to write who it is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None

    def acquire(
        self,
        wait_seconds: float | None = None,
        on_wait: Callable[[], None] | None = None,
        say_every_seconds: float = 60.0,
    ) -> None:
        """Take the lock, waiting for its holder for ever (`wait_seconds` None) or up to
        `wait_seconds`, then TimeoutError; `on_wait` is called when the wait begins and then
        every `say_every_seconds`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 -- held until release()
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        said = None
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    f.close()
                    raise TimeoutError(f"{self.path} is locked") from None
                if on_wait is not None and (said is None or now - said >= say_every_seconds):
                    on_wait()
                    said = now
                time.sleep(POLL_SECONDS)
        self.file = f

    def release(self) -> None:
        if self.file is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()
        self.file = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
