"""Load one landing folder into the `raw` schema with DuckDB's own readers, enforcing the contract.

Per file: DuckDB reads it (CSV as text, Parquet typed), every value is parsed into its contract
type, and the first broken rule of each row is named. Good rows go to `raw.<dataset>`, broken
rows to `raw.<dataset>_quarantine` with their original values, the reason and the file/row they
came from (R12: quarantined, never silently dropped). A file that cannot be read at all fails
the whole load with a message naming it; the load runs in one transaction, so a failure leaves
the previous raw tables untouched.

The load's flow is here; its seams are modules of their own: `files` (listing, headers, the
one-line errors), `duckdb_sql` (the contract's SQL), `quarantine` (the reasons' order),
`bookkeeping` (`raw.load_files` / `raw.load_log`). The Spark loader is `spark_loader`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from ...contract import Dataset
from ...duckdb_transaction import roll_back
from . import bookkeeping
from .bookkeeping import RAW_SCHEMA, FileStats, LoadResult
from .csv_fallback import UnreadableCsv, duckdb_may_misread, rewrite_as_plain_csv
from .duckdb_sql import (
    PLAIN_COPIES,
    create_tables,
    enforce_unique_key,
    file_stats,
    insert_batch,
    reader_sql,
)
from .files import (
    LandingError,
    check_landing,
    csv_header,
    empty_file_error,
    list_landing_files,
    missing_columns,
    no_files_message,
    read_error,
    reader,
    shown,
)

__all__ = [
    "RAW_SCHEMA",
    "FileStats",
    "LandingError",
    "LoadResult",
    "check_landing",
    "describe_file",
    "list_landing_files",
    "load_dataset",
    "no_files_message",
    "shown",
]


def _batches(
    con: duckdb.DuckDBPyConnection, files: list[Path], dataset: Dataset
) -> list[tuple[list[Path], dict[str, str]]]:
    """Files grouped for reading: each CSV alone; Parquet files with the same column types
    together, so DuckDB scans them in parallel in one pass. Every file's schema is checked
    first, so an unreadable file is named before anything is loaded."""
    batches: dict[tuple, tuple[list[Path], dict[str, str]]] = {}
    for path in files:
        types = describe_file(con, path, dataset)
        if reader(path) == "csv":
            batches[("csv", str(path))] = ([path], types)
        else:
            key = ("parquet", tuple(sorted(types.items())))
            batches.setdefault(key, ([], types))[0].append(path)
    return list(batches.values())


def describe_file(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset) -> dict[str, str]:
    """Column -> DuckDB type of a landing file; fails naming the file if it is unreadable."""
    if reader(path) == "csv":
        types = dict.fromkeys(csv_header(path), "VARCHAR")
    else:
        if path.stat().st_size == 0:
            raise empty_file_error(path)
        try:
            rows = con.execute(f"describe select * from {reader_sql([path])}").fetchall()
        except duckdb.Error as exc:
            raise read_error([path], exc) from exc
        types = {name: type_ for name, type_, *_ in rows if name not in ("__row", "__file")}
    missing_columns(path, dataset, types)
    return types


class _ReadWithPython(Exception):
    """DuckDB refused a CSV that Python's csv module may read: load again from a plain copy."""

    def __init__(self, path: Path, error: duckdb.Error) -> None:
        super().__init__(str(error))
        self.path = path
        self.error = error


def _load_batch(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, paths: list[Path], types: dict[str, str]
) -> None:
    try:
        insert_batch(con, dataset, paths, types)
    except duckdb.Error as exc:
        csv_file = len(paths) == 1 and reader(paths[0]) == "csv"
        if csv_file and str(paths[0]) not in PLAIN_COPIES.get({}) and duckdb_may_misread(str(exc)):
            raise _ReadWithPython(paths[0], exc) from exc
        raise read_error(paths, exc) from exc


def load_dataset(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    folder: Path,
    progress: Callable[[int, int, Path], None] | None = None,
    scratch: Path | None = None,
) -> LoadResult:
    """`_load_dataset`, again with a plain copy of each CSV that DuckDB's strict reader refused
    and Python's csv module reads (D43; the copies live in `scratch` until the load ends). A
    file neither reads is a LandingError naming its line."""
    copies: dict[str, Path] = {}
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="landing-csv-", dir=scratch) as folder_of_copies:
        while True:
            token = PLAIN_COPIES.set(copies)
            try:
                return _load_dataset(con, dataset, folder, progress)
            except _ReadWithPython as retry:
                copy = Path(folder_of_copies) / f"{len(copies)}.csv"
                try:
                    rewrite_as_plain_csv(retry.path, copy)
                except UnreadableCsv as exc:
                    raise LandingError(f"{shown(retry.path)}: {exc}") from retry.error
                except UnicodeDecodeError as exc:
                    raise read_error([retry.path], retry.error) from exc
                copies = {**copies, str(retry.path): copy}
            finally:
                PLAIN_COPIES.reset(token)


def _load_dataset(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    folder: Path,
    progress: Callable[[int, int, Path], None] | None = None,
) -> LoadResult:
    """Bring `raw.<dataset>` and its quarantine up to date with `folder`, atomically.

    A folder holding exactly the files already loaded (same names, sizes and modification times)
    is not read at all. A dataset without a unique key whose previously loaded files are all
    still there, unchanged, only gets its new files appended: the daily run reads one day of
    orders, not the whole change log (docs/decisions.md, D16). Anything else -- a file changed
    or removed, a new file of a keyed dataset, a first load -- reloads the dataset from scratch.
    """
    files = list_landing_files(folder)
    if not files:  # a run from the UI whose folder is empty (`rewards run` checks first, D55)
        raise LandingError(no_files_message(folder.parent, [dataset.name]))
    fingerprints = {str(p): _fingerprint(p) for p in files}
    result = LoadResult(dataset=dataset.name)
    con.execute("set TimeZone = 'UTC'")
    con.execute("begin transaction")
    try:
        bookkeeping.create_bookkeeping(con)
        previous = bookkeeping.loaded_files(con, dataset)
        result.mode = bookkeeping.load_mode(dataset, previous, fingerprints)
        if result.mode == "unchanged":
            # the same files as last time: nothing is read, and no load is recorded, so the
            # incremental models see nothing new (D29)
            bookkeeping.read_totals(con, dataset, result)
            con.execute("rollback")
            return result
        append = result.mode == "append"
        to_load = [p for p in files if str(p) not in previous] if append else files
        result.load_id = bookkeeping.next_load_id(con)
        if not append:
            create_tables(con, dataset)
            bookkeeping.forget_files(con, dataset)
        done = 0
        for paths, types in _batches(con, to_load, dataset):
            _load_batch(con, dataset, paths, types)
            done += len(paths)
            if progress:
                progress(done, len(to_load), paths[-1])
        result.files = file_stats(con, dataset, to_load)
        result.exact_duplicates_collapsed = enforce_unique_key(con, dataset)
        bookkeeping.record_files(con, result, fingerprints)
        bookkeeping.record_load(con, dataset, result)
        con.execute("commit")
    except BaseException:
        roll_back(con)
        raise
    return result


def _fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
