"""The data contract as DuckDB SQL: how the loader reads a landing file (CSV as text, Parquet
typed), parses every value into its contract type and names the first broken rule of each row
(the order: `quarantine.cascade`), and the SQL that fills `raw.<dataset>` and its quarantine.
The Spark loader's counterpart is `spark_sql.py`.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

import duckdb

from ...contract import (
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
)
from ...formatting import lit, q
from .bookkeeping import RAW_SCHEMA, FileStats
from .files import csv_header, reader
from .quarantine import (
    INSTANT_TEXT,
    LOCAL_TEXT,
    QUARANTINE_COLUMNS,
    TEXT_FORMATS,
    cascade,
    key_detail,
)

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

# The landing CSVs of the load in progress that are read from Python's plain copies (D43)
PLAIN_COPIES: ContextVar[dict[str, Path]] = ContextVar("plain_copies")


def reader_sql(paths: list[Path], header: list[str] | None = None) -> str:
    """A subquery over the files (all CSV or all Parquet) with `__file` and `__row` (1-based row
    of the file) beside the file's own columns."""
    if reader(paths[0]) == "csv":
        # One CSV at a time, everything as text, with the columns its header names (read by
        # csv_header): the contract's formats are checked here, nothing is guessed by a sniffer,
        # and a line with more or fewer fields than the header is an error naming the line.
        # Insertion order is preserved, so row_number() is the file row.
        (path,) = paths
        columns = (
            "{" + ", ".join(f"{lit(name)}: 'VARCHAR'" for name in header or csv_header(path)) + "}"
        )
        # a file DuckDB could not read is read from Python's plain copy (csv_fallback, D43)
        source = PLAIN_COPIES.get({}).get(str(path), path)
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


def parse(column: Column, source_type: str) -> tuple[str, list[tuple[str, str]]]:
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
            typed = _matched(src, INSTANT_TEXT, "timestamptz")
            local = _matched(src, LOCAL_TEXT, "timestamp")
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
            else _matched(src, TEXT_FORMATS[column.kind], target)
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


def _matched(src: str, pattern: str, target: str) -> str:
    """SQL: the text cast to `target` when it matches `pattern` (and the cast, the calendar),
    else null."""
    return f"case when regexp_matches({src}, '{pattern}') then try_cast({src} as {target}) end"


def csv_columns(paths: list[Path], types: dict[str, str]) -> list[str] | None:
    """A CSV's columns as describe_file read them from its header (Parquet's are its own)."""
    return list(types) if reader(paths[0]) == "csv" else None


def checked_select(paths: list[Path], dataset: Dataset, types: dict[str, str]) -> str:
    """One row per file row: typed columns, `__reason`/`__detail` (null when the row is good)
    and `__file`/`__row` (where the row came from)."""
    typed_cols, reason, detail, rule = cascade(dataset, types, parse, lit, q, "varchar")
    return f"""
        with source as (select * from {reader_sql(paths, csv_columns(paths, types))}),
        parsed as (
            select
                {", ".join(typed_cols)},
                {reason} as __source_reason,
                {detail} as __source_detail,
                __file,
                __row
            from source
        )
        select
            * exclude (__source_reason, __source_detail),
            coalesce(__source_reason, {rule}) as __reason,
            case when __source_reason is not null then __source_detail end as __detail
        from parsed
    """


def record_json(columns: list[str]) -> str:
    """The original values of a row as a JSON object of strings (kept for quarantined rows)."""
    return "json_object(" + ", ".join(f"{lit(c)}, cast({q(c)} as varchar)" for c in columns) + ")"


def create_tables(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    cols = ", ".join(f"{q(c.name)} {STORAGE_TYPE[c.kind]}" for c in dataset.columns)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"create or replace table {RAW_SCHEMA}.{dataset.name} "
        f"({cols}, _source_file varchar not null, _source_row bigint not null)"
    )
    con.execute(
        f"create or replace table {RAW_SCHEMA}.{dataset.name}_quarantine ("
        + ", ".join(f"{name} {type_}" for name, type_ in QUARANTINE_COLUMNS)
        + ")"
    )


def insert_batch(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, paths: list[Path], types: dict[str, str]
) -> None:
    table = f"{RAW_SCHEMA}.{dataset.name}"
    cols = ", ".join(q(c) for c in dataset.column_names)
    checked = checked_select(paths, dataset, types)
    header = csv_columns(paths, types)
    # A CSV's row numbers are its insertion order, so DuckDB keeps that order for it. Parquet
    # rows carry their own row numbers, and kept order costs a second write of the whole
    # change log: DuckDB then rewrites the row groups of the insert when the connection closes
    # (at 10M orders 9.7 s of checkpoint after a 22 s load; without it 0.1 s).
    con.execute(f"set preserve_insertion_order = {reader(paths[0]) == 'csv'}")
    # Good rows go straight in; only the (few) bad rows' positions and reasons are kept aside,
    # and their original values are read back from the files for the quarantine.
    (inserted,) = con.execute(
        f"insert into {table} select {cols}, __file, __row from ({checked}) where __reason is null"
    ).fetchone()
    if reader(paths[0]) == "parquet" and inserted == parquet_rows(con, paths):
        return  # every row was good: no second pass over the files to look for bad ones
    con.execute(
        "create or replace temp table __rejected as select __file, __row, __reason, __detail "
        f"from ({checked}) where __reason is not null"
    )
    con.execute(
        f"insert into {table}_quarantine select {lit(dataset.name)}, __file, __row, "
        f"__reason, __detail, {record_json(dataset.column_names)} "
        f"from {reader_sql(paths, header)} as source inner join __rejected using (__file, __row)"
    )
    con.execute("drop table __rejected")


def parquet_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """Rows in Parquet files, from their footers (nothing is scanned)."""
    files = ", ".join(lit(str(p)) for p in paths)
    return con.execute(f"select sum(num_rows) from parquet_file_metadata([{files}])").fetchone()[0]


def file_stats(
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


def enforce_unique_key(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> int:
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
        f"{lit(KEY_REASON)}, {lit(key_detail(dataset))}, "
        f"{record_json(dataset.column_names)} "
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
