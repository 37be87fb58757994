"""The loader's bookkeeping, in one place: `raw.load_files` (every landing file the raw tables
hold, with its fingerprint and the load that read it) and `raw.load_log` (one row of totals per
dataset, R12's reconciliation), how a load decides what to read (D16, D29), and the queries the
rest of the project asks of them (the incremental models' watermark, the quality scopes, the
serving copy's input files, simulate's check that the raw tables are the published run's).

The tables' columns are declared once here; the DuckDB loader writes them with the SQL below,
the Spark loader (`spark_loader.py`) with the same columns in Spark's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ...contract import Dataset

RAW_SCHEMA = "raw"

# (column, DuckDB type) of the two tables
LOAD_FILES_COLUMNS = (
    ("dataset", "varchar not null"),
    ("file", "varchar not null"),
    ("size_bytes", "bigint not null"),
    ("mtime_ns", "bigint not null"),
    ("load_id", "bigint not null"),
    ("rows_read", "bigint not null"),
    ("rows_quarantined", "bigint not null"),
)
# the Spark loader's `raw.load_files` has one more column: a file's SHA-256 as its application
# read it (D99), which the serving copy records for files no local path reaches (a lake landing):
# every CSV file's, and a Parquet file's when it is not local; null otherwise and in rows an
# earlier version wrote. DuckDB's loader reads local files only: the serving copy hashes those.
SHA256_COLUMN = ("sha256", "varchar")
SPARK_LOAD_FILES_COLUMNS = (*LOAD_FILES_COLUMNS, SHA256_COLUMN)
LOAD_LOG_COLUMNS = (
    ("dataset", "varchar primary key"),
    ("files", "bigint"),
    ("rows_read", "bigint"),
    ("rows_loaded", "bigint"),
    ("rows_quarantined", "bigint"),
    ("exact_duplicates_collapsed", "bigint"),
    ("loaded_at", "timestamptz"),
    ("load_id", "bigint"),
    ("mode", "varchar"),
    ("last_full_load_id", "bigint"),
)


@dataclass
class FileStats:
    file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


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


Fingerprints = dict[str, tuple[int, int]]  # file -> (size in bytes, modification time in ns)


def load_mode(dataset: Dataset, previous: Fingerprints, now: Fingerprints) -> str:
    """What a load of `dataset` does, given the files its tables hold (`previous`) and the files
    of its folder (`now`): `unchanged` -- exactly the files already loaded, nothing is read and
    no load is recorded, so the incremental models see nothing new (D29); `append` -- a dataset
    without a unique key whose loaded files are all still there, unchanged: only the new files
    are read (D16); `full` -- anything else (a file changed or removed, a new file of a keyed
    dataset, a first load) reloads the dataset from scratch."""
    if previous and previous == now:
        return "unchanged"
    if (
        previous
        and not dataset.unique_key
        and all(now.get(file) == fingerprint for file, fingerprint in previous.items())
    ):
        return "append"
    return "full"


def log_row(
    result: LoadResult, files: int, rows_read: int, previous: tuple[int, int] | None
) -> list:
    """`raw.load_log`'s row for a load (without `loaded_at`): rows read = rows loaded + rows
    quarantined + exact duplicates collapsed, over every file the tables hold (R12).
    `previous`: the dataset's (exact_duplicates_collapsed, last_full_load_id) before it."""
    duplicates = result.exact_duplicates_collapsed
    last_full = result.load_id
    if result.mode == "append" and previous:
        duplicates += previous[0]
        last_full = previous[1]
    return [
        result.dataset,
        files,
        rows_read,
        result.rows_loaded,
        result.rows_quarantined,
        duplicates,
        result.load_id,
        result.mode,
        last_full,
    ]


# -- DuckDB: the tables and the loader's statements ------------------------------------------


def create_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    """`raw.load_files`: every file in the raw tables, with the load that read it (the order
    models' incremental builds read only the files of loads they have not seen yet); and
    `raw.load_log`, one row of totals per dataset."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"create sequence if not exists {RAW_SCHEMA}.load_seq start 1")
    if table_exists(con, "load_log") and "last_full_load_id" not in _columns(con, "load_log"):
        con.execute(f"drop table {RAW_SCHEMA}.load_log")  # from before incremental loads
    con.execute(
        f"create table if not exists {RAW_SCHEMA}.load_files ("
        + ", ".join(f"{name} {type_}" for name, type_ in LOAD_FILES_COLUMNS)
        + ", primary key (dataset, file))"
    )
    con.execute(
        f"create table if not exists {RAW_SCHEMA}.load_log ("
        + ", ".join(f"{name} {type_}" for name, type_ in LOAD_LOG_COLUMNS)
        + ")"
    )


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchone()[0]
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> set[str]:
    """The columns of `raw.<table>`; of an attached database's when `database` is given."""
    return {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?"
            + (" and database_name = ?" if database else ""),
            [RAW_SCHEMA, table, *([database] if database else [])],
        ).fetchall()
    }


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select nextval('{RAW_SCHEMA}.load_seq')").fetchone()[0]


def loaded_files(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> Fingerprints:
    """File -> fingerprint of what `raw.<dataset>` holds now; empty when it must be (re)built."""
    if not table_exists(con, dataset.name):
        return {}
    rows = con.execute(
        f"select file, size_bytes, mtime_ns from {RAW_SCHEMA}.load_files where dataset = ?",
        [dataset.name],
    ).fetchall()
    return {file: (size, mtime) for file, size, mtime in rows}


def forget_files(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """A full load: the dataset's files are read again, from scratch."""
    con.execute(f"delete from {RAW_SCHEMA}.load_files where dataset = ?", [dataset.name])


def record_files(
    con: duckdb.DuckDBPyConnection, result: LoadResult, fingerprints: Fingerprints
) -> None:
    con.executemany(
        f"insert into {RAW_SCHEMA}.load_files values (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                result.dataset,
                f.file,
                *fingerprints[f.file],
                result.load_id,
                f.rows_read,
                f.rows_quarantined,
            ]
            for f in result.files
        ],
    )


def record_load(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Totals of the tables after this load and key enforcement, kept per dataset in
    `raw.load_log` for audit (R12)."""
    read_totals(con, dataset, result)
    files, rows_read = con.execute(
        f"select count(*), sum(rows_read) from {RAW_SCHEMA}.load_files where dataset = ?",
        [dataset.name],
    ).fetchone()
    previous = con.execute(
        f"select exact_duplicates_collapsed, last_full_load_id from {RAW_SCHEMA}.load_log "
        "where dataset = ?",
        [dataset.name],
    ).fetchone()
    row = log_row(result, files, rows_read, previous)
    con.execute(
        f"insert or replace into {RAW_SCHEMA}.load_log values (?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
        row,
    )


def read_totals(con: duckdb.DuckDBPyConnection, dataset: Dataset, result: LoadResult) -> None:
    """Rows loaded and quarantined (by reason) that the tables hold now."""
    table = f"{RAW_SCHEMA}.{dataset.name}"
    result.rows_loaded = con.execute(f"select count(*) from {table}").fetchone()[0]
    result.by_reason = dict(
        con.execute(
            f"select reason, count(*) from {table}_quarantine group by 1 order by 1"
        ).fetchall()
    )
    result.rows_quarantined = sum(result.by_reason.values())


# -- what the rest of the project asks of them -----------------------------------------------


def load_watermark(con: duckdb.DuckDBPyConnection) -> int:
    """The newest raw load: every row of the warehouse is at or below it."""
    return con.execute(f"select coalesce(max(load_id), 0) from {RAW_SCHEMA}.load_files").fetchone()[
        0
    ]


def last_full_load_id(con: duckdb.DuckDBPyConnection, dataset: str) -> int | None:
    """The load that last read `dataset` from scratch (None: never loaded)."""
    row = con.execute(
        f"select last_full_load_id from {RAW_SCHEMA}.load_log where dataset = ?", [dataset]
    ).fetchone()
    return row[0] if row else None


def files_loaded_after(con: duckdb.DuckDBPyConnection, through: int) -> dict[str, list[str]]:
    """Each dataset's files loaded after load `through`, sorted."""
    found: dict[str, list[str]] = {}
    for dataset, file in con.execute(
        f"select dataset, file from {RAW_SCHEMA}.load_files where load_id > ? order by file",
        [through],
    ).fetchall():
        found.setdefault(dataset, []).append(file)
    return found


# (dataset, file, size_bytes, mtime_ns) of every file of a `load_files` table (`{table}`: the
# warehouse's, an attached copy's, or the serving copy's `serving.input_files`)
INPUT_FILES_SQL = "select dataset, file, size_bytes, mtime_ns from {table}"
LOAD_FILES_TABLE = f"{RAW_SCHEMA}.load_files"


def input_files(con: duckdb.DuckDBPyConnection, database: str | None = None) -> list[tuple]:
    """(dataset, file, size_bytes, mtime_ns, rows_read, rows_quarantined, sha256) of every
    landing file in the raw tables, sorted; sha256 as the Spark loader recorded it, else None;
    `database`: an attached warehouse's name."""
    table = f"{database}.{LOAD_FILES_TABLE}" if database else LOAD_FILES_TABLE
    name = SHA256_COLUMN[0]
    sha256 = name if name in _columns(con, "load_files", database) else "null"
    return con.execute(
        "select dataset, file, size_bytes, mtime_ns, rows_read, rows_quarantined, "
        f"{sha256} from {table} order by dataset, file"
    ).fetchall()
