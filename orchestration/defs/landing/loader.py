"""Load one landing folder into the `raw` schema with DuckDB's own readers, enforcing the contract.

Per file: DuckDB reads it (CSV as text, Parquet typed), every value is parsed into its contract
type, and the first broken rule of each row is named. Good rows go to `raw.<dataset>`, broken
rows to `raw.<dataset>_quarantine` with their original values, the reason and the file/row they
came from (R12: quarantined, never silently dropped). A file that cannot be read at all fails
the whole load with a message naming it; the load runs in one transaction, so a failure leaves
the previous raw tables untouched.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ...contract import (
    BOOLEAN,
    DATASETS,
    DATE,
    DATE_PATTERN,
    INTEGER,
    KEY_REASON,
    MONEY,
    STORAGE_TYPE,
    STRING,
    TIMESTAMP,
    Column,
    Dataset,
)
from ...formatting import lit, q
from .csv_fallback import UnreadableCsv, duckdb_may_misread, rewrite_as_plain_csv

RAW_SCHEMA = "raw"
READERS = {".csv": "csv", ".parquet": "parquet"}

# Text formats from the data contract, exactly (docs/data-contract.md, "Formats"; D33). DuckDB's
# casts are more lenient (`2025/12/01`, `+5`, `1_000`, ` 10`, `24:00:00`, a date for a timestamp):
# a value must match these before it is cast, and the cast then checks the calendar.
_DATE_PART = DATE_PATTERN
_TIME_PART = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6}0*)?)?"
# an instant: ISO-8601 date `T` time, with `Z` or an offset +hh:mm / -hh:mm
_INSTANT_TEXT = rf"^{_DATE_PART}T{_TIME_PART}(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
# a local date-time, `T` or space: it lacks its zone (`timestamp_without_zone`), nothing else
_LOCAL_TEXT = rf"^{_DATE_PART}[T ]{_TIME_PART}$"
_DATE_TEXT = rf"^{_DATE_PART}$"
_INTEGER_TEXT = r"^-?[0-9]+$"
_MONEY_TEXT = r"^-?[0-9]+(\.[0-9]{1,2})?$"
_NAIVE_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"}
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}


class LandingError(Exception):
    """A landing folder or file that cannot be loaded at all; the message names it."""


@dataclass
class FileStats:
    file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


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


def no_files_message(landing: Path, datasets: list[str]) -> str:
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


@dataclass
class LoadResult:
    dataset: str
    # the files read by this load: all of them ("full"), only the new ones ("append"), or none
    # ("unchanged": the folder holds exactly the files already loaded)
    files: list[FileStats] = field(default_factory=list)
    mode: str = "full"
    load_id: int | None = None  # None: nothing new, the tables were left as they were
    rows_loaded: int = 0
    rows_quarantined: int = 0
    exact_duplicates_collapsed: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)


def list_landing_files(folder: Path) -> list[Path]:
    """CSV and Parquet files of a dataset folder, sorted; hidden and `_`-prefixed files skipped."""
    if not folder.is_dir():
        raise LandingError(f"landing folder not found: {folder}")
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")) or path.is_dir():
            continue
        if path.suffix.lower() not in READERS:
            raise LandingError(
                f"{shown(path)}: not a CSV or Parquet file (extension "
                f"{path.suffix or 'none'}; a landing folder takes .csv and "
                ".parquet files)"
            )
        files.append(path)
    return files


def shown(path: Path) -> str:
    """A landing file as the user names it: relative to the landing directory."""
    return f"{path.parent.name}/{path.name}"


def _reader_sql(paths: list[Path], header: list[str] | None = None) -> str:
    """A subquery over the files (all CSV or all Parquet) with `__file` and `__row` (1-based row
    of the file) beside the file's own columns."""
    if READERS[paths[0].suffix.lower()] == "csv":
        # One CSV at a time, everything as text, with the columns its header names (read by
        # csv_header): the contract's formats are checked here, nothing is guessed by a sniffer,
        # and a line with more or fewer fields than the header is an error naming the line.
        # Insertion order is preserved, so row_number() is the file row.
        (path,) = paths
        columns = (
            "{" + ", ".join(f"{lit(name)}: 'VARCHAR'" for name in header or csv_header(path)) + "}"
        )
        # a file DuckDB could not read is read from Python's plain copy (csv_fallback, D43)
        source = _PLAIN_COPIES.get({}).get(str(path), path)
        return (
            f"(select *, {lit(str(path))} as __file, row_number() over () as __row "
            f"from read_csv({lit(str(source))}, header = true, auto_detect = false, "
            f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', "
            "strict_mode = true))"
        )
    files = ", ".join(lit(str(p)) for p in paths)
    return (
        "(select * exclude (filename, file_row_number), filename as __file, "
        f"file_row_number + 1 as __row from read_parquet([{files}], filename = true, "
        "file_row_number = true))"
    )


def _batches(
    con: duckdb.DuckDBPyConnection, files: list[Path], dataset: Dataset
) -> list[tuple[list[Path], dict[str, str]]]:
    """Files grouped for reading: each CSV alone; Parquet files with the same column types
    together, so DuckDB scans them in parallel in one pass. Every file's schema is checked
    first, so an unreadable file is named before anything is loaded."""
    batches: dict[tuple, tuple[list[Path], dict[str, str]]] = {}
    for path in files:
        types = describe_file(con, path, dataset)
        if READERS[path.suffix.lower()] == "csv":
            batches[("csv", str(path))] = ([path], types)
        else:
            key = ("parquet", tuple(sorted(types.items())))
            batches.setdefault(key, ([], types))[0].append(path)
    return list(batches.values())


def describe_file(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset) -> dict[str, str]:
    """Column -> DuckDB type of a landing file; fails naming the file if it is unreadable."""
    if READERS[path.suffix.lower()] == "csv":
        types = dict.fromkeys(csv_header(path), "VARCHAR")
    else:
        if path.stat().st_size == 0:
            raise LandingError(f"{shown(path)}: the file is empty (0 bytes)")
        try:
            rows = con.execute(f"describe select * from {_reader_sql([path])}").fetchall()
        except duckdb.Error as exc:
            raise read_error([path], exc) from exc
        types = {name: type_ for name, type_, *_ in rows if name not in ("__row", "__file")}
    missing = [c for c in dataset.column_names if c not in types]
    if missing:
        raise LandingError(
            f"{shown(path)}: missing contract column(s) {', '.join(missing)} "
            f"(the file has: {', '.join(types) or 'no columns'})"
        )
    return types


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV's header row, read as the contract says (UTF-8, comma, `"`
    quotes; a UTF-8 byte-order mark is skipped); a LandingError, one line, when there is none."""
    if path.stat().st_size == 0:
        raise LandingError(
            f"{shown(path)}: the file is empty (0 bytes); a CSV needs at least its header row"
        )
    with open(path, "rb") as f:
        first_line = f.readline()
    try:
        header = next(
            csv.reader([first_line.decode("utf-8-sig")], delimiter=",", quotechar='"', strict=True),
            [],
        )
    except UnicodeDecodeError as exc:
        raise LandingError(f"{shown(path)}: line 1: not UTF-8 text ({_UTF8_HINT})") from exc
    except csv.Error as exc:
        raise LandingError(f"{shown(path)}: line 1: the header is not CSV ({exc})") from exc
    names = [name or f"column{i}" for i, name in enumerate(header, start=1)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise LandingError(
            f"{shown(path)}: line 1: the header names {', '.join(repeated)} more than once"
        )
    return names


_UTF8_HINT = "the landing files' encoding; save the file as UTF-8"


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
        what = f"not UTF-8 text ({_UTF8_HINT})"
    elif fields:
        what = f"{fields.group(2)} fields where the header has {fields.group(1)}"
    elif "unterminated quote" in text:
        what = "a quoted field is not closed"
    elif "No magic bytes" in text or "too small to be a Parquet file" in text:
        what = "not a Parquet file, or a truncated one (it has no Parquet footer)"
    else:  # DuckDB's own first line, without its error class or the full paths
        what = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        what = re.sub(r"^[A-Za-z ]*Error: ", "", what)
        for p in paths:
            what = what.replace(str(p), shown(p))
    return LandingError(f"{where}: {at}{what}")


def _parse(column: Column, source_type: str) -> tuple[str, list[tuple[str, str]]]:
    """SQL for the typed value of `column` and its (condition, reason) checks, in cascade order.

    Conditions are evaluated after the `missing` check, so the source value is non-null there.
    """
    src = q(column.name)
    target = STORAGE_TYPE[column.kind]
    text = source_type == "VARCHAR"
    unparseable = "unparseable_value"
    upper = source_type.upper()
    if column.kind == STRING:
        if text:
            return src, []
        return f"cast({src} as varchar)", [("true", unparseable)]  # e.g. an integer id column
    if column.kind == TIMESTAMP:
        if text:  # the value only if it is an instant as written; else a local time, or not
            typed = _matched(src, _INSTANT_TEXT, "timestamptz")
            local = _matched(src, _LOCAL_TEXT, "timestamp")
            return typed, [
                (f"({typed}) is null and ({local}) is null", unparseable),
                (f"({typed}) is null", "timestamp_without_zone"),
            ]
        if upper in _NAIVE_TIMESTAMP_TYPES:
            return f"try_cast({src} as timestamptz)", [("true", "timestamp_without_zone")]
        if upper == "TIMESTAMPTZ_NS":  # kept in microseconds: finer instants are refused
            typed = f"try_cast({src} as timestamptz)"
            return typed, [(f"{typed} is null or epoch_ns({src}) % 1000 <> 0", unparseable)]
        if upper != "TIMESTAMP WITH TIME ZONE":
            return "null::timestamptz", [("true", unparseable)]  # a date, a number, ...
        return src, []
    if text:  # the value only if it is written in the contract's format; else unparseable
        typed = (
            f"case {src} when 'true' then true when 'false' then false end"
            if column.kind == BOOLEAN
            else _matched(src, _TEXT_FORMATS[column.kind], target)
        )
        return typed, [(f"({typed}) is null", unparseable)]
    # A typed (Parquet) source must be the contract's Arrow type: date32 for a date, boolean, an
    # integer type for an integer, a decimal for money (its value exact at 2 places). Binary
    # floats are never money (R11); an integer money column is refused too, as the contract
    # names none and integer amounts are usually fen, not yuan.
    typed = f"try_cast({src} as {target})"
    accepted = {
        DATE: upper == "DATE",
        BOOLEAN: upper == "BOOLEAN",
        INTEGER: upper in _INTEGER_TYPES,
        MONEY: upper.startswith("DECIMAL"),
    }
    if not accepted[column.kind]:
        return f"null::{target}", [("true", unparseable)]
    if column.kind in (MONEY, INTEGER):
        return typed, [(f"{typed} is null or {typed} <> {src}", unparseable)]
    return typed, [(f"{typed} is null", unparseable)]


_TEXT_FORMATS = {DATE: _DATE_TEXT, INTEGER: _INTEGER_TEXT, MONEY: _MONEY_TEXT}


def _matched(src: str, pattern: str, target: str) -> str:
    """SQL: the text cast to `target` when it matches `pattern` (and the cast, the calendar),
    else null."""
    return f"case when regexp_matches({src}, '{pattern}') then try_cast({src} as {target}) end"


def _header(paths: list[Path], types: dict[str, str]) -> list[str] | None:
    """A CSV's columns as describe_file read them from its header (Parquet's are its own)."""
    return list(types) if READERS[paths[0].suffix.lower()] == "csv" else None


def _checked_select(paths: list[Path], dataset: Dataset, types: dict[str, str]) -> str:
    """One row per file row: typed columns, `__reason`/`__detail` (null when the row is good)
    and `__file`/`__row` (where the row came from)."""
    typed_cols, cascade = [], []
    for column in dataset.columns:
        typed, checks = _parse(column, types[column.name])
        typed_cols.append(f"{typed} as {q(column.name)}")
        src = q(column.name)
        if column.required:
            cascade.append((f"{src} is null", "missing_required_value", column.name))
        cascade += [
            (f"{src} is not null and ({cond})", reason, column.name) for cond, reason in checks
        ]
        if column.accepted:
            values = ", ".join(lit(v) for v in column.accepted)
            cascade.append(
                (
                    f"{src} is not null and cast({src} as varchar) not in ({values})",
                    "invalid_category",
                    column.name,
                )
            )
    # Cross-field rules run on the typed values, after every value parsed.
    rule_cascade = [(f"coalesce({r.violated_when}, false)", r.reason, None) for r in dataset.rules]

    def case(items: list[tuple[str, str, str | None]], pick: int) -> str:
        """First matching condition wins; `pick` 1 yields the reason, 2 the column."""
        whens = " ".join(
            f"when {item[0]} then {lit(item[pick]) if item[pick] else 'null'}" for item in items
        )
        return f"case {whens} end" if items else "null"

    return f"""
        with source as (select * from {_reader_sql(paths, _header(paths, types))}),
        parsed as (
            select
                {", ".join(typed_cols)},
                {case(cascade, 1)} as __source_reason,
                {case(cascade, 2)} as __source_detail,
                __file,
                __row
            from source
        )
        select
            * exclude (__source_reason, __source_detail),
            coalesce(__source_reason, {case(rule_cascade, 1)}) as __reason,
            case when __source_reason is not null then __source_detail end as __detail
        from parsed
    """


def _record_json(columns: list[str]) -> str:
    """The original values of a row as a JSON object of strings (kept for quarantined rows)."""
    return "json_object(" + ", ".join(f"{lit(c)}, cast({q(c)} as varchar)" for c in columns) + ")"


def _create_tables(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    cols = ", ".join(f"{q(c.name)} {STORAGE_TYPE[c.kind]}" for c in dataset.columns)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"create or replace table {RAW_SCHEMA}.{dataset.name} "
        f"({cols}, _source_file varchar not null, _source_row bigint not null)"
    )
    con.execute(
        f"create or replace table {RAW_SCHEMA}.{dataset.name}_quarantine ("
        "dataset varchar not null, source_file varchar not null, source_row bigint, "
        "reason varchar not null, detail varchar, record json)"
    )


# The landing CSVs of the load in progress that are read from Python's plain copies (D43)
_PLAIN_COPIES: ContextVar[dict[str, Path]] = ContextVar("plain_copies")


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
        _insert_batch(con, dataset, paths, types)
    except duckdb.Error as exc:
        csv_file = len(paths) == 1 and READERS[paths[0].suffix.lower()] == "csv"
        if csv_file and str(paths[0]) not in _PLAIN_COPIES.get({}) and duckdb_may_misread(str(exc)):
            raise _ReadWithPython(paths[0], exc) from exc
        raise read_error(paths, exc) from exc


def _insert_batch(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, paths: list[Path], types: dict[str, str]
) -> None:
    table = f"{RAW_SCHEMA}.{dataset.name}"
    cols = ", ".join(q(c) for c in dataset.column_names)
    checked = _checked_select(paths, dataset, types)
    header = _header(paths, types)
    # A CSV's row numbers are its insertion order, so DuckDB keeps that order for it. Parquet
    # rows carry their own row numbers, and kept order costs a second write of the whole
    # change log: DuckDB then rewrites the row groups of the insert when the connection closes
    # (at 10M orders 9.7 s of checkpoint after a 22 s load; without it 0.1 s).
    con.execute(f"set preserve_insertion_order = {READERS[paths[0].suffix.lower()] == 'csv'}")
    # Good rows go straight in; only the (few) bad rows' positions and reasons are kept aside,
    # and their original values are read back from the files for the quarantine.
    (inserted,) = con.execute(
        f"insert into {table} select {cols}, __file, __row from ({checked}) where __reason is null"
    ).fetchone()
    if READERS[paths[0].suffix.lower()] == "parquet" and inserted == _parquet_rows(con, paths):
        return  # every row was good: no second pass over the files to look for bad ones
    con.execute(
        "create or replace temp table __rejected as select __file, __row, __reason, __detail "
        f"from ({checked}) where __reason is not null"
    )
    con.execute(
        f"insert into {table}_quarantine select {lit(dataset.name)}, __file, __row, "
        f"__reason, __detail, {_record_json(dataset.column_names)} "
        f"from {_reader_sql(paths, header)} as source inner join __rejected using (__file, __row)"
    )
    con.execute("drop table __rejected")


def _parquet_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """Rows in Parquet files, from their footers (nothing is scanned)."""
    files = ", ".join(lit(str(p)) for p in paths)
    return con.execute(f"select sum(num_rows) from parquet_file_metadata([{files}])").fetchone()[0]


def _file_stats(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, files: list[Path]
) -> list[FileStats]:
    """Rows loaded and quarantined per file, as first loaded (before key enforcement)."""
    table = f"{RAW_SCHEMA}.{dataset.name}"
    names = ", ".join(lit(str(p)) for p in files) or "null"
    loaded = dict(
        con.execute(
            f"select _source_file, count(*) from {table} where _source_file in ({names}) group by 1"
        ).fetchall()
    )
    stats = {str(p): FileStats(file=str(p), rows_loaded=loaded.get(str(p), 0)) for p in files}
    for file, reason, n in con.execute(
        f"select source_file, reason, count(*) from {table}_quarantine "
        f"where source_file in ({names}) group by 1, 2"
    ).fetchall():
        stats[file].by_reason[reason] = n
        stats[file].rows_quarantined += n
    for s in stats.values():
        s.rows_read = s.rows_loaded + s.rows_quarantined
    return list(stats.values())


def _enforce_unique_key(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> int:
    """Collapse identical rows sharing the key; quarantine every row of a key whose rows differ.

    Returns the number of exact duplicates collapsed.
    """
    if not dataset.unique_key:
        return 0
    table = f"{RAW_SCHEMA}.{dataset.name}"
    key = ", ".join(q(c) for c in dataset.unique_key)
    cols = ", ".join(q(c) for c in dataset.column_names)
    # The usual case: every key once. Then nothing is collapsed or quarantined, and the table is
    # not rewritten (one grouping pass instead of a grouping of whole rows and a copy).
    (repeated,) = con.execute(
        f"select count(*) from (select 1 from {table} group by {key} having count(*) > 1)"
    ).fetchone()
    if not repeated:
        return 0
    con.execute(
        f"create or replace temp table __conflicting_keys as select {key} from {table} "
        f"group by {key} having count(distinct ({cols})) > 1"
    )
    conflicting = con.execute(
        f"insert into {table}_quarantine select {lit(dataset.name)}, _source_file, _source_row, "
        f"{lit(KEY_REASON)}, {lit(', '.join(dataset.unique_key))}, "
        f"{_record_json(dataset.column_names)} "
        f"from {table} semi join __conflicting_keys using ({key})"
    ).fetchone()[0]
    before = con.execute(f"select count(*) from {table}").fetchone()[0]
    con.execute(
        f"create or replace temp table __kept as select * from {table} "
        f"anti join __conflicting_keys using ({key}) "
        f"qualify row_number() over (partition by {key} order by _source_file, _source_row) = 1"
    )
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} select * from __kept")
    after = con.execute(f"select count(*) from {table}").fetchone()[0]
    con.execute("drop table __kept; drop table __conflicting_keys")
    return before - conflicting - after


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
            token = _PLAIN_COPIES.set(copies)
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
                _PLAIN_COPIES.reset(token)


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
        _create_bookkeeping(con)
        previous = _loaded_files(con, dataset)
        if previous and previous == fingerprints:
            # the same files as last time: nothing is read, and no load is recorded, so the
            # incremental models see nothing new (D29)
            con.execute("rollback")
            result.mode = "unchanged"
            _read_totals(con, dataset, result)
            return result
        append = (
            bool(previous)
            and not dataset.unique_key
            and all(fingerprints.get(file) == fingerprint for file, fingerprint in previous.items())
        )
        to_load = [p for p in files if str(p) not in previous] if append else files
        result.mode = "append" if append else "full"
        result.load_id = con.execute(f"select nextval('{RAW_SCHEMA}.load_seq')").fetchone()[0]
        if not append:
            _create_tables(con, dataset)
            con.execute(f"delete from {RAW_SCHEMA}.load_files where dataset = ?", [dataset.name])
        done = 0
        for paths, types in _batches(con, to_load, dataset):
            _load_batch(con, dataset, paths, types)
            done += len(paths)
            if progress:
                progress(done, len(to_load), paths[-1])
        result.files = _file_stats(con, dataset, to_load)
        result.exact_duplicates_collapsed = _enforce_unique_key(con, dataset)
        con.executemany(
            f"insert into {RAW_SCHEMA}.load_files values (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    dataset.name,
                    f.file,
                    *fingerprints[f.file],
                    result.load_id,
                    f.rows_read,
                    f.rows_quarantined,
                ]
                for f in result.files
            ],
        )
        _record_load(con, dataset, result)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def _fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _create_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    """`raw.load_files`: every file in the raw tables, with the load that read it (the order
    models' incremental builds read only the files of loads they have not seen yet); and
    `raw.load_log`, one row of totals per dataset."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"create sequence if not exists {RAW_SCHEMA}.load_seq start 1")
    if _table_exists(con, "load_log") and "last_full_load_id" not in _columns(con, "load_log"):
        con.execute(f"drop table {RAW_SCHEMA}.load_log")  # from before incremental loads
    con.execute(
        f"create table if not exists {RAW_SCHEMA}.load_files (dataset varchar not null, "
        "file varchar not null, size_bytes bigint not null, mtime_ns bigint not null, "
        "load_id bigint not null, rows_read bigint not null, rows_quarantined bigint not null, "
        "primary key (dataset, file))"
    )
    con.execute(
        f"create table if not exists {RAW_SCHEMA}.load_log (dataset varchar primary key, "
        "files bigint, rows_read bigint, rows_loaded bigint, rows_quarantined bigint, "
        "exact_duplicates_collapsed bigint, loaded_at timestamptz, load_id bigint, "
        "mode varchar, last_full_load_id bigint)"
    )


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchone()[0]
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchall()
    }


def _loaded_files(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> dict[str, tuple[int, int]]:
    """File -> fingerprint of what `raw.<dataset>` holds now; empty when it must be (re)built."""
    if not _table_exists(con, dataset.name):
        return {}
    rows = con.execute(
        f"select file, size_bytes, mtime_ns from {RAW_SCHEMA}.load_files where dataset = ?",
        [dataset.name],
    ).fetchall()
    return {file: (size, mtime) for file, size, mtime in rows}


def _record_load(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Totals of the tables after this load and key enforcement, kept per dataset in
    `raw.load_log` for audit (R12): rows read = rows loaded + rows quarantined + exact
    duplicates collapsed, over every file the tables hold."""
    _read_totals(con, dataset, result)
    files, rows_read = con.execute(
        f"select count(*), sum(rows_read) from {RAW_SCHEMA}.load_files where dataset = ?",
        [dataset.name],
    ).fetchone()
    previous = con.execute(
        f"select exact_duplicates_collapsed, last_full_load_id from {RAW_SCHEMA}.load_log "
        "where dataset = ?",
        [dataset.name],
    ).fetchone()
    duplicates = result.exact_duplicates_collapsed
    last_full = result.load_id
    if result.mode == "append" and previous:
        duplicates += previous[0]
        last_full = previous[1]
    con.execute(
        f"insert or replace into {RAW_SCHEMA}.load_log values (?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
        [
            dataset.name,
            files,
            rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            duplicates,
            result.load_id,
            result.mode,
            last_full,
        ],
    )


def _read_totals(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Rows loaded and quarantined (by reason) that the tables hold now."""
    table = f"{RAW_SCHEMA}.{dataset.name}"
    result.rows_loaded = con.execute(f"select count(*) from {table}").fetchone()[0]
    result.by_reason = dict(
        con.execute(
            f"select reason, count(*) from {table}_quarantine group by 1 order by 1"
        ).fetchall()
    )
    result.rows_quarantined = sum(result.by_reason.values())
