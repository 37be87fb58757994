"""Writing what finance asked for -- an export, a statements folder, a simulation's changes --
where the user said (`--out`), whole or not at all, and saying in one line why not (D64).

A file is written under a temporary name beside its target and renamed into place; a folder is
written aside as a whole and moved into place (D63). Any OS error on the way becomes
`CannotWrite`: `cannot write PATH: why`, naming the path the user gave, never a temporary one;
the temporary file or folder is removed, and a failure to remove it never hides the first error
(on a read-only file system even removing a file that is not there fails).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from ..formatting import lit

T = TypeVar("T")

# the place the user chose will not take the file: choosing another is the fix (exit 2)
_PLACE = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EISDIR: "it is a folder",
}
# the machine, not the choice: the same place works once this is fixed (exit 1)
_MACHINE = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
}


class CannotWrite(Exception):
    """An output cannot be written: one line, `cannot write PATH: why; what to do`.
    `users_input` says whether choosing another place is the fix (exit 2) or not (exit 1)."""

    def __init__(self, path: Path, why: str, *, users_input: bool, hint: str = "") -> None:
        hint = hint or ("choose another --out" if users_input else "run it again once fixed")
        super().__init__(f"cannot write {path}: {why}; {hint}")
        self.path, self.why, self.hint, self.users_input = path, why, hint, users_input

    def at(self, path: Path) -> CannotWrite:
        """The same failure, naming `path` (the user's) instead of a temporary file."""
        return CannotWrite(path, self.why, users_input=self.users_input, hint=self.hint)


def _file_in_the_way(path: Path) -> Path | None:
    """The first of `path`'s folders (or `path` itself) that exists but is not a folder."""
    for candidate in [*reversed(path.parents), path]:
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def cannot_write(target: Path, exc: OSError, *, folder: bool = False) -> CannotWrite:
    """`exc`, raised while writing `target` (a file, or a folder when `folder`), in words."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        blocker = _file_in_the_way(target if folder else target.parent)
        if blocker is not None:
            return CannotWrite(target, f"{blocker} is a file, not a folder", users_input=True)
    if exc.errno in _PLACE:
        return CannotWrite(target, _PLACE[exc.errno], users_input=True)
    if exc.errno in _MACHINE:
        hint = "free some space, then run it again"
        return CannotWrite(target, _MACHINE[exc.errno], users_input=False, hint=hint)
    return CannotWrite(target, (exc.strerror or str(exc)).lower(), users_input=False)


@contextlib.contextmanager
def writing(target: Path, *, folder: bool = False) -> Iterator[None]:
    """Any OS error in the block is `CannotWrite` naming `target`; so is a `CannotWrite` that
    named a temporary file."""
    try:
        yield
    except OSError as exc:
        raise cannot_write(target, exc, folder=folder) from exc
    except CannotWrite as exc:
        if exc.path == target:
            raise
        raise exc.at(target) from exc


def copy_query(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> None:
    """DuckDB's `copy (query) to path (options)`; DuckDB's own failure to write (a full disk)
    is `CannotWrite`: in the words of the OS error it reports, else in DuckDB's."""
    try:
        con.execute(f"copy ({query}) to {lit(str(path))} ({options})")
    except duckdb.IOException as exc:
        reported = re.search(r'"errno":\s*"(\d+)"', str(exc))
        if reported:
            code = int(reported[1])
            raise cannot_write(path, OSError(code, os.strerror(code))) from exc
        raise CannotWrite(path, str(exc).splitlines()[0], users_input=False) from exc


def _remove_quietly(path: Path) -> None:
    """Remove a temporary file or folder; a failure here must not hide the error that brought
    us here (the caller's), so it is ignored: at worst a hidden temporary is left."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif os.path.lexists(path):
            path.unlink()


def _temporary_beside(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def check_writable(out_file: Path) -> None:
    """Create `out_file`'s folder and a file beside it, then remove that file: for a command
    that works a while before it writes (simulate), so a wrong --out fails first, not last."""
    probe = _temporary_beside(out_file, "probe")
    try:
        with writing(out_file):
            out_file.parent.mkdir(parents=True, exist_ok=True)
            probe.open("xb").close()
    finally:
        _remove_quietly(probe)


def write_file(out_file: Path, write: Callable[[Path], T]) -> T:
    """`write(tmp)` writes the file's content to `tmp`, beside `out_file`, which is then renamed
    into place (atomic: a reader sees the old file or the new one). The temporary file is
    created here first, so an unwritable place fails as an OS error, whatever writes it next
    (DuckDB, openpyxl). Returns what `write` returned."""
    tmp = _temporary_beside(out_file, "tmp")
    try:
        with writing(out_file):
            out_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.open("xb").close()
            result = write(tmp)
            os.replace(tmp, out_file)
    finally:
        _remove_quietly(tmp)
    return result


# what a folder of output may hold besides the files a command wrote (file browsers' own)
_BROWSER_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def foreign_entries(folder: Path, written_suffix: str) -> list[str]:
    """The entries of `folder` a command writing `written_suffix` files did not write (file
    browsers' own files aside): what replacing the folder would delete."""
    return [
        entry.name
        for entry in sorted(folder.iterdir())
        if entry.name not in _BROWSER_FILES
        and (entry.is_symlink() or not entry.is_file() or not entry.name.endswith(written_suffix))
    ]


def write_folder(
    out_dir: Path, write: Callable[[Path], T], *, may_replace: Callable[[Path], str | None]
) -> T:
    """`write(tmp)` writes every file into a new folder `tmp` beside `out_dir`, which then takes
    `out_dir`'s place as a whole (D63): a reader, or a failed or killed run, never leaves a
    half-written set, nor new files mixed with an older set. An existing `out_dir` is replaced
    only when `may_replace(out_dir)` gives no reason not to (what it holds is an earlier set):
    anything else is refused rather than deleted. A link to a folder is followed: its target
    is replaced."""
    target = Path(os.path.abspath(out_dir.resolve() if out_dir.is_symlink() else out_dir))
    if target.parent == target:
        raise CannotWrite(out_dir, "it is the file system's root", users_input=True)
    with writing(out_dir, folder=True):
        if target.exists():
            if not target.is_dir():
                raise CannotWrite(out_dir, "it is a file, not a folder", users_input=True)
            why = may_replace(target)
            if why is not None:
                raise CannotWrite(out_dir, why, users_input=True)
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_beside(target, "tmp")
    old = _temporary_beside(target, "old")
    try:
        with writing(out_dir, folder=True):
            tmp.mkdir()
            result = write(tmp)
            if target.exists():
                os.rename(target, old)
                try:
                    os.rename(tmp, target)
                except OSError:
                    os.rename(old, target)  # put the previous set back
                    raise
            else:
                os.rename(tmp, target)
    finally:
        _remove_quietly(tmp)
        _remove_quietly(old)
    return result
