"""The landing folder as both engines see it: which files a dataset folder holds, what a CSV's
header says, and every file the loader cannot read as one line naming it (issue 14).

Shared by the DuckDB loader (`loader.py`) and the Spark loader (`spark_loader.py`,
`spark_app.py`): the same files are listed and refused with the same words on either engine.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from ...contract import DATASETS, Dataset

READERS = {".csv": "csv", ".parquet": "parquet"}
UTF8_HINT = "the landing files' encoding; save the file as UTF-8"


class LandingError(Exception):
    """A landing folder or file that cannot be loaded at all; the message names it."""


def check_landing(landing: Path) -> None:
    """The landing directory exists with a folder per dataset, each holding a file the loader
    reads (D55); FileNotFoundError naming what is missing or empty, before any step runs."""
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory not found: {landing}")
    missing = [name for name in DATASETS if not (landing / name).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"landing directory {landing} lacks folder(s): {', '.join(missing)}"
        )
    empty = [name for name in DATASETS if not _holds_a_landing_file(landing / name)]
    if empty:
        raise FileNotFoundError(no_files_message(landing, empty))


def no_files_message(landing: Path | str, datasets: list[str]) -> str:
    """The one line for dataset folders that hold no file yet: `rewards run` says it for all
    of them before the run starts, a landing step (a run from the UI) for its own folder."""
    return (
        f"landing directory {landing} has no file yet in folder(s): {', '.join(datasets)} "
        "(each needs at least one .csv or .parquet file; names starting with . or _ are skipped)"
    )


def _holds_a_landing_file(folder: Path) -> bool:
    """Whether `folder` holds a file the loader reads or refuses (list_landing_files' rule)."""
    return any(
        not path.name.startswith((".", "_")) and not path.is_dir() for path in folder.iterdir()
    )


def list_landing_files(folder: Path) -> list[Path]:
    """CSV and Parquet files of a dataset folder, sorted; hidden and `_`-prefixed files skipped."""
    if not folder.is_dir():
        raise LandingError(f"landing folder not found: {folder}")
    return [
        Path(p) for p in landing_files(str(path) for path in folder.iterdir() if not path.is_dir())
    ]


def landing_files(paths: Iterable[str]) -> list[str]:
    """The files of a dataset folder's listing (plain files, as paths or URIs) that the loader
    reads, sorted; hidden and `_`-prefixed names skipped; a LandingError naming the first file
    of another kind."""
    files = []
    for path in sorted(paths):
        name = PurePosixPath(path).name
        if name.startswith((".", "_")):
            continue
        suffix = PurePosixPath(name).suffix
        if suffix.lower() not in READERS:
            raise LandingError(
                f"{shown(path)}: not a CSV or Parquet file (extension "
                f"{suffix or 'none'}; a landing folder takes .csv and "
                ".parquet files)"
            )
        files.append(path)
    return files


def reader(path: Path | str) -> str:
    """`csv` or `parquet`: how a landing file is read, by its extension."""
    return READERS[PurePosixPath(str(path)).suffix.lower()]


def shown(path: Path | str) -> str:
    """A landing file as the user names it: relative to the landing directory."""
    parts = PurePosixPath(str(path))
    return f"{parts.parent.name}/{parts.name}"


def empty_file_error(path: Path | str) -> LandingError:
    """A zero-byte landing file, in the words of its format."""
    if reader(path) == "csv":
        return LandingError(
            f"{shown(path)}: the file is empty (0 bytes); a CSV needs at least its header row"
        )
    return LandingError(f"{shown(path)}: the file is empty (0 bytes)")


def missing_columns(path: Path | str, dataset: Dataset, names: Iterable[str]) -> None:
    """A LandingError naming the file when it lacks a column of the contract."""
    names = list(names)
    missing = [c for c in dataset.column_names if c not in names]
    if missing:
        raise LandingError(
            f"{shown(path)}: missing contract column(s) {', '.join(missing)} "
            f"(the file has: {', '.join(names) or 'no columns'})"
        )


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV's header row, read as the contract says (UTF-8, comma, `"`
    quotes; a UTF-8 byte-order mark is skipped); a LandingError, one line, when there is none."""
    if path.stat().st_size == 0:
        raise empty_file_error(path)
    with open(path, "rb") as f:
        first_line = f.readline()
    return header_names(path, first_line)


def header_names(path: Path | str, first_line: bytes) -> list[str]:
    """The column names of a CSV whose first line is `first_line` (csv_header's rules)."""
    try:
        header = next(
            csv.reader([first_line.decode("utf-8-sig")], delimiter=",", quotechar='"', strict=True),
            [],
        )
    except UnicodeDecodeError as exc:
        raise LandingError(f"{shown(path)}: line 1: not UTF-8 text ({UTF8_HINT})") from exc
    except csv.Error as exc:
        raise LandingError(f"{shown(path)}: line 1: the header is not CSV ({exc})") from exc
    names = [name or f"column{i}" for i, name in enumerate(header, start=1)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise LandingError(
            f"{shown(path)}: line 1: the header names {', '.join(repeated)} more than once"
        )
    return names


def read_error(paths: list[Path], exc: Exception) -> LandingError:
    """What DuckDB could not read, as one line: the file relative to the landing directory, the
    line where known, and what is wrong in plain words."""
    text = str(exc)
    named = [p for p in paths if str(p) in text]
    path = named[0] if named else paths[0] if len(paths) == 1 else None
    where = "one of " + ", ".join(shown(p) for p in paths) if path is None else shown(path)
    line = re.search(r"CSV Error on Line: ([0-9]+)", text)
    at = f"line {line.group(1)}: " if line else ""
    fields = re.search(r"Expected Number of Columns: ([0-9]+) Found: ([0-9]+)", text)
    if "not utf-8 encoded" in text or "Invalid unicode" in text:
        what = f"not UTF-8 text ({UTF8_HINT})"
    elif fields:
        what = f"{fields.group(2)} fields where the header has {fields.group(1)}"
    elif "unterminated quote" in text:
        what = "a quoted field is not closed"
    elif "No magic bytes" in text or "too small to be a Parquet file" in text:
        what = NOT_PARQUET
    else:  # DuckDB's own first line, without its error class or the full paths
        what = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        what = re.sub(r"^[A-Za-z ]*Error: ", "", what)
        for p in paths:
            what = what.replace(str(p), shown(p))
    return LandingError(f"{where}: {at}{what}")


NOT_PARQUET = "not a Parquet file, or a truncated one (it has no Parquet footer)"
