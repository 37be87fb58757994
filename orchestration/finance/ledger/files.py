"""The ledger file: opening it to read or to append, and saying in one line why it cannot be
opened -- in use by another process, damaged, missing, or on a read-only file system -- with the
file's path and what to do (D46).

DuckDB reports each of these as an `IOException` (or, for a block whose checksum no longer
matches, an error raised by whichever query first reads it); the user needs to know which, since
each asks for something else: wait, restore a backup, run the command where the file is writable.
"""

from __future__ import annotations

import errno
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from .schema import LedgerError

LOCK_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.2

T = TypeVar("T")


class LedgerUnavailable(LedgerError):
    """The ledger file cannot be used as it is; the message says why and what to do."""


class LedgerLocked(LedgerUnavailable):
    pass


class LedgerDamaged(LedgerUnavailable):
    pass


class LedgerReadOnly(LedgerUnavailable):
    pass


class LedgerMissing(LedgerUnavailable):
    pass


# What DuckDB says of a file that is not (or no longer) a whole database
_DAMAGE = (
    "not a valid duckdb database file",
    "could not read enough bytes",
    "corrupt database file",
    "checksum",
    "the database file was truncated",
    "failed to load metadata",
    "invalid metadata",
    "serialization error",
)
_READ_ONLY = ("read-only file system", "read only file system")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _DAMAGE)


def unavailable(ledger: Path, exc: BaseException, *, writing: bool) -> LedgerError | None:
    """The one-line refusal for an error DuckDB (or the OS) raised on the ledger file, or None
    when the error says nothing about the file itself (a bug, to surface as it is)."""
    text = str(exc)
    lower = text.lower()
    if "could not set lock" in lower or "conflicting lock" in lower:
        pid = re.search(r"\(PID (\d+)\)", text)
        holder = f" (pid {pid.group(1)})" if pid else ""
        return LedgerLocked(
            f"the ledger {ledger} is in use by another process{holder}: a `rewards` command "
            "holds it for a moment, a DuckDB shell until it is closed; try again when it has "
            "finished"
        )
    read_only = any(marker in lower for marker in _READ_ONLY) or (
        isinstance(exc, OSError) and exc.errno == errno.EROFS
    )
    if read_only or (writing and "permission denied" in lower):
        why = (
            "is on a read-only file system"
            if read_only
            else "cannot be written (permission denied)"
        )
        return LedgerReadOnly(
            f"the ledger {ledger} {why}: publish, approve, reject, adjust, close and "
            "`ledger init` write it, so run them where it is writable; reading commands "
            "(ledger, explain, export, statements) work here"
        )
    if is_damage(exc):
        size = ledger.stat().st_size if ledger.exists() else None
        what = "empty (0 bytes)" if size == 0 else f"damaged ({_first_line(exc)})"
        return LedgerDamaged(
            f"the ledger {ledger} is {what}: nothing was read or written; restore the file "
            f"from a backup (its anchor {anchor_path(ledger)} names the head digest the copy "
            "must have)"
        )
    return None


def anchor_path(ledger: Path) -> Path:
    """Where a ledger's anchor lives: beside it, `<warehouse>.ledger.anchor` for the default
    `<warehouse>.ledger.duckdb` (anchor.py)."""
    return ledger.with_suffix(".anchor")


def opened(ledger: Path, open_: Callable[[], T], *, writing: bool) -> T:
    """`open_()` (a DuckDB connect or attach of the ledger), waiting up to LOCK_WAIT_SECONDS for
    another process's lock; every other failure to open it is one line saying why."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return open_()
        except (duckdb.Error, OSError) as exc:
            refusal = unavailable(ledger, exc, writing=writing)
            if isinstance(refusal, LedgerLocked) and time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
                continue
            if refusal is None:
                raise
            raise refusal from exc


def connect_for_append(ledger: Path) -> duckdb.DuckDBPyConnection:
    """The ledger file opened for writing (it must exist: `rewards ledger init` creates it)."""
    return opened(ledger, lambda: duckdb.connect(str(ledger)), writing=True)


def attach_read_only(con: duckdb.DuckDBPyConnection, ledger: Path, name: str = "payouts") -> None:
    """Attach the ledger read-only to `con` as `name`."""
    opened(
        ledger,
        lambda: con.execute(f"attach ? as {name} (read_only)", [str(ledger)]),
        writing=False,
    )
