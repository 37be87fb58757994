"""Load one landing folder into the `raw` schema with DuckDB's own readers, enforcing the contract.

Per file: DuckDB reads it (CSV as text, Parquet typed), every value is parsed into its contract
type, and the first broken rule of each row is named. Good rows go to `raw.<dataset>`, broken
rows to `raw.<dataset>_quarantine` with their original values, the reason and the file/row they
came from (R12: quarantined, never silently dropped). A file that cannot be read at all fails
the whole load with a message naming it; the load runs in one transaction, so a failure leaves
the previous raw tables untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import (
    BOOLEAN,
    DATE,
    INTEGER,
    KEY_REASON,
    MONEY,
    STORAGE_TYPE,
    STRING,
    TIMESTAMP,
    Column,
    Dataset,
    FileStats,
)

RAW_SCHEMA = "raw"
READERS = {".csv": "csv", ".parquet": "parquet"}

# Text formats from the data contract.
_ZONE_SUFFIX = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INTEGER_TEXT = r"^[+-]?[0-9]+$"
_MONEY_TEXT = r"^[+-]?[0-9]+(\.[0-9]{1,2})?$"
_NAIVE_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME"}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT"}


class LandingError(Exception):
    """A landing folder or file that cannot be loaded at all; the message names it."""


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


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


def list_landing_files(folder: Path) -> list[Path]:
    """CSV and Parquet files of a dataset folder, sorted; hidden and `_`-prefixed files skipped."""
    if not folder.is_dir():
        raise LandingError(f"landing folder not found: {folder}")
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")) or path.is_dir():
            continue
        if path.suffix.lower() not in READERS:
            raise LandingError(f"{path}: not a CSV or Parquet file (extension {path.suffix!r})")
        files.append(path)
    return files


def _reader_sql(paths: list[Path]) -> str:
    """A subquery over the files (all CSV or all Parquet) with `__file` and `__row` (1-based row
    of the file) beside the file's own columns."""
    if READERS[paths[0].suffix.lower()] == "csv":
        # One CSV at a time, everything as text: the contract's formats are checked here, not
        # guessed by a sniffer. Insertion order is preserved, so row_number() is the file row.
        (path,) = paths
        return (
            f"(select *, {lit(str(path))} as __file, row_number() over () as __row "
            f"from read_csv({lit(str(path))}, header = true, delim = ',', quote = '\"', "
            "escape = '\"', all_varchar = true))"
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
    try:
        rows = con.execute(f"describe select * from {_reader_sql([path])}").fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise LandingError(f"{path}: cannot be read as {path.suffix[1:]}: {first_line}") from exc
    types = {name: type_ for name, type_, *_ in rows if name not in ("__row", "__file")}
    missing = [c for c in dataset.column_names if c not in types]
    if missing:
        raise LandingError(f"{path}: missing required column(s) {', '.join(missing)}")
    return types


def _parse(column: Column, source_type: str) -> tuple[str, list[tuple[str, str]]]:
    """SQL for the typed value of `column` and its (condition, reason) checks, in cascade order.

    Conditions are evaluated after the `missing` check, so the source value is non-null there.
    """
    src = q(column.name)
    target = STORAGE_TYPE[column.kind]
    text = source_type == "VARCHAR"
    unparseable = "unparseable_value"
    if column.kind == STRING:
        return f"cast({src} as varchar)", []
    if column.kind == TIMESTAMP:
        if text:
            typed = f"try_cast({src} as timestamptz)"
            return typed, [
                (f"{typed} is null", unparseable),
                (f"not regexp_matches({src}, '{_ZONE_SUFFIX}')", "timestamp_without_zone"),
            ]
        if source_type.upper() in _NAIVE_TIMESTAMP_TYPES:
            return f"try_cast({src} as timestamptz)", [("true", "timestamp_without_zone")]
    if text and column.kind == DATE:
        typed = f"try_cast({src} as date)"
        return typed, [(f"not regexp_matches({src}, '{_DATE_TEXT}') or {typed} is null",
                        unparseable)]
    if text and column.kind == BOOLEAN:
        typed = f"case {src} when 'true' then true when 'false' then false end"
        return typed, [(f"({typed}) is null", unparseable)]
    if text and column.kind == INTEGER:
        typed = f"try_cast({src} as bigint)"
        return typed, [(f"not regexp_matches({src}, '{_INTEGER_TEXT}') or {typed} is null",
                        unparseable)]
    if text and column.kind == MONEY:
        typed = f"try_cast({src} as decimal(18,2))"
        return typed, [(f"not regexp_matches({src}, '{_MONEY_TEXT}') or {typed} is null",
                        unparseable)]
    # A typed (Parquet) source: cast, and refuse anything the cast would change. Binary floats
    # are never money (R11), and a float follower count is not an integer.
    typed = f"try_cast({src} as {target})"
    upper = source_type.upper()
    if column.kind in (MONEY, INTEGER) and upper in ("FLOAT", "DOUBLE", "REAL"):
        return typed, [("true", unparseable)]
    exact = column.kind == BOOLEAN and upper == "BOOLEAN" or (
        column.kind == INTEGER and upper in _INTEGER_TYPES)
    if exact or column.kind == DATE and upper == "DATE":
        return typed, [(f"{typed} is null", unparseable)]
    if column.kind in (MONEY, INTEGER):
        return typed, [(f"{typed} is null or {typed} <> {src}", unparseable)]
    return typed, [(f"{typed} is null", unparseable)]


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
        cascade += [(f"{src} is not null and ({cond})", reason, column.name)
                    for cond, reason in checks]
        if column.accepted:
            values = ", ".join(lit(v) for v in column.accepted)
            cascade.append((f"{src} is not null and cast({src} as varchar) not in ({values})",
                            "invalid_category", column.name))
    # Cross-field rules run on the typed values, after every value parsed.
    rule_cascade = [(f"coalesce({r.violated_when}, false)", r.reason, None)
                    for r in dataset.rules]

    def case(items: list[tuple[str, str, str | None]], pick: int) -> str:
        """First matching condition wins; `pick` 1 yields the reason, 2 the column."""
        whens = " ".join(
            f"when {item[0]} then {lit(item[pick]) if item[pick] else 'null'}" for item in items
        )
        return f"case {whens} end" if items else "null"

    return f"""
        with source as (select * from {_reader_sql(paths)}),
        parsed as (
            select
                {', '.join(typed_cols)},
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


def _load_batch(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, paths: list[Path], types: dict[str, str]
) -> None:
    table = f"{RAW_SCHEMA}.{dataset.name}"
    cols = ", ".join(q(c) for c in dataset.column_names)
    checked = _checked_select(paths, dataset, types)
    # A CSV's row numbers are its insertion order, so DuckDB keeps that order for it. Parquet
    # rows carry their own row numbers, and kept order costs a second write of the whole
    # change log: DuckDB then rewrites the row groups of the insert when the connection closes
    # (at 10M orders 9.7 s of checkpoint after a 22 s load; without it 0.1 s).
    con.execute(f"set preserve_insertion_order = {READERS[paths[0].suffix.lower()] == 'csv'}")
    # Good rows go straight in; only the (few) bad rows' positions and reasons are kept aside,
    # and their original values are read back from the files for the quarantine.
    (inserted,) = con.execute(
        f"insert into {table} select {cols}, __file, __row from ({checked}) "
        "where __reason is null"
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
        f"from {_reader_sql(paths)} as source inner join __rejected using (__file, __row)"
    )
    con.execute("drop table __rejected")


def _parquet_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """Rows in Parquet files, from their footers (nothing is scanned)."""
    files = ", ".join(lit(str(p)) for p in paths)
    return con.execute(f"select sum(num_rows) from parquet_file_metadata([{files}])").fetchone()[0]


def _file_stats(con: duckdb.DuckDBPyConnection, dataset: Dataset, files: list[Path]
                ) -> list[FileStats]:
    """Rows loaded and quarantined per file, as first loaded (before key enforcement)."""
    table = f"{RAW_SCHEMA}.{dataset.name}"
    names = ", ".join(lit(str(p)) for p in files) or "null"
    loaded = dict(con.execute(f"select _source_file, count(*) from {table} "
                              f"where _source_file in ({names}) group by 1").fetchall())
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
) -> LoadResult:
    """Bring `raw.<dataset>` and its quarantine up to date with `folder`, atomically.

    A folder holding exactly the files already loaded (same names, sizes and modification times)
    is not read at all. A dataset without a unique key whose previously loaded files are all
    still there, unchanged, only gets its new files appended: the daily run reads one day of
    orders, not the whole change log (docs/decisions.md, D16). Anything else -- a file changed
    or removed, a new file of a keyed dataset, a first load -- reloads the dataset from scratch.
    """
    files = list_landing_files(folder)
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
        append = bool(previous) and not dataset.unique_key and all(
            fingerprints.get(file) == fingerprint for file, fingerprint in previous.items())
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
            [[dataset.name, f.file, *fingerprints[f.file], result.load_id, f.rows_read,
              f.rows_quarantined] for f in result.files],
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
    return bool(con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [RAW_SCHEMA, table]).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {name for (name,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
        [RAW_SCHEMA, table]).fetchall()}


def _loaded_files(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> dict[str, tuple[int, int]]:
    """File -> fingerprint of what `raw.<dataset>` holds now; empty when it must be (re)built."""
    if not _table_exists(con, dataset.name):
        return {}
    rows = con.execute(f"select file, size_bytes, mtime_ns from {RAW_SCHEMA}.load_files "
                       "where dataset = ?", [dataset.name]).fetchall()
    return {file: (size, mtime) for file, size, mtime in rows}


def _record_load(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Totals of the tables after this load and key enforcement, kept per dataset in
    `raw.load_log` for audit (R12): rows read = rows loaded + rows quarantined + exact
    duplicates collapsed, over every file the tables hold."""
    _read_totals(con, dataset, result)
    files, rows_read = con.execute(
        f"select count(*), sum(rows_read) from {RAW_SCHEMA}.load_files where dataset = ?",
        [dataset.name]).fetchone()
    previous = con.execute(
        f"select exact_duplicates_collapsed, last_full_load_id from {RAW_SCHEMA}.load_log "
        "where dataset = ?", [dataset.name]).fetchone()
    duplicates = result.exact_duplicates_collapsed
    last_full = result.load_id
    if result.mode == "append" and previous:
        duplicates += previous[0]
        last_full = previous[1]
    con.execute(
        f"insert or replace into {RAW_SCHEMA}.load_log values (?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
        [dataset.name, files, rows_read, result.rows_loaded, result.rows_quarantined, duplicates,
         result.load_id, result.mode, last_full],
    )


def _read_totals(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Rows loaded and quarantined (by reason) that the tables hold now."""
    table = f"{RAW_SCHEMA}.{dataset.name}"
    result.rows_loaded = con.execute(f"select count(*) from {table}").fetchone()[0]
    result.by_reason = dict(
        con.execute(f"select reason, count(*) from {table}_quarantine group by 1 order by 1")
        .fetchall()
    )
    result.rows_quarantined = sum(result.by_reason.values())
