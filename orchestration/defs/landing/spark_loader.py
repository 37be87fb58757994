"""Load one landing folder into Spark's database `raw`, enforcing the contract (D69-D73).

Everything Spark does goes through two narrow interfaces, so that the same code runs against a
Thrift server and a standalone master in production and against a local session in tests:

* `SqlExecutor` -- `execute(sql)` / `query(sql) -> rows`: the SQL endpoint that owns the
  metastore (the Spark Thrift server). Listing the landing folder, reading the bookkeeping,
  registering the tables and writing `raw.load_files` / `raw.load_log` are SQL.
* `AppRunner` -- `run_app(module_main, args)`: a PySpark application (spark-submit to the
  master). `spark_app.main` reads the files and writes Parquet folders; it has no metastore.

The decision what to read (unchanged / append / full, D16, D29) and the bookkeeping's columns are
the DuckDB loader's (`bookkeeping.py`); the files' one-line errors are `files.py`'s.

Layout under `root` (any Hadoop path): `<table>/load-<id>/` per load of a table, `outcomes/`,
`staging/` (the CSV text, per load). Each load folder is a table of database `raw`
(`<table>__load_<id>`, D95), and `raw.<dataset>` and `raw.<dataset>_quarantine` are views over
the loads that `raw.load_files` lists (a full load: its own; an append: every load since the
last full one), so a load whose app or registration failed half-way is never part of a table
(D72).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ...contract import DATASETS, Dataset
from . import bookkeeping
from .bookkeeping import RAW_SCHEMA, FileStats, Fingerprints, LoadResult
from .files import (
    LandingError,
    empty_file_error,
    landing_files,
    list_landing_files,
    no_files_message,
)
from .spark_app import recorded_name
from .spark_sql import lit, q

APP = "orchestration.defs.landing.spark_app:main"
# Spark types of the bookkeeping tables' DuckDB types
_SPARK_TYPES = {"varchar": "string", "bigint": "bigint", "timestamptz": "timestamp"}


class SqlExecutor(Protocol):
    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[tuple]: ...


class AppRunner(Protocol):
    def run_app(self, module_main: str, args: list[str]) -> None:
        """Run `main(spark, args)` of `module:function` to its end; an error if it failed
        (`spark_app.main` writes what each load refused with its outcomes, D85)."""


def _columns_sql(columns) -> str:
    return ", ".join(f"{name} {_SPARK_TYPES[type_.split()[0]]}" for name, type_ in columns)


def _values(rows: list[list], columns) -> str:
    """A VALUES list of `rows` with the bookkeeping table's Spark types."""

    def value(v, type_: str) -> str:
        if v is None:
            return f"cast(null as {type_})"
        if type_ == "string":
            return lit(str(v))
        if type_ == "timestamp":
            return str(v)  # an SQL expression
        return f"cast({int(v)} as {type_})"

    types = [_SPARK_TYPES[t.split()[0]] for _, t in columns]
    return ", ".join(
        "(" + ", ".join(value(v, t) for v, t in zip(row, types, strict=True)) + ")" for row in rows
    )


def _replace_table(sql: SqlExecutor, table: str, columns, rows: list[list]) -> None:
    """Replace a small bookkeeping table with `rows` (Spark's session catalog has no
    `create or replace table ... as`: drop, then create)."""
    names = ", ".join(name for name, _ in columns)
    sql.execute(f"drop table if exists {RAW_SCHEMA}.{table}")
    if not rows:
        sql.execute(f"create table {RAW_SCHEMA}.{table} ({_columns_sql(columns)}) using parquet")
        return
    sql.execute(
        f"create table {RAW_SCHEMA}.{table} using parquet as "
        f"select * from values {_values(rows, columns)} as t({names})"
    )


def _tables(sql: SqlExecutor) -> set[str]:
    return {row[1] for row in sql.query(f"show tables in {RAW_SCHEMA}")}


def list_files(sql: SqlExecutor, folder: str) -> dict[str, tuple[str, int, int]]:
    """Recorded name -> (URI, size, modification time in ns) of the folder's landing files, by
    Spark's own listing (the binaryFile source, without reading any content)."""
    try:
        rows = sql.query(
            f"select path, length, unix_millis(modificationTime) from binaryFile.{q(folder)}"
        )
    except Exception as exc:  # noqa: BLE001 -- the endpoint's error for a missing path
        if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
            raise LandingError(f"landing folder not found: {folder}") from None
        raise
    found = {uri: (size, millis) for uri, size, millis in rows}
    return {
        recorded_name(uri): (uri, found[uri][0], found[uri][1] * 1_000_000)
        for uri in landing_files(found)
    }


@dataclass
class LoadPlan:
    """What one load of a dataset will do (`plan_load`): `spec` is the application's work, None
    when the folder is unchanged (`result` is then final)."""

    dataset: Dataset
    fingerprints: Fingerprints
    result: LoadResult
    spec: dict | None = None
    # what the application read: (file, rows read, rows quarantined, duplicates collapsed,
    # SHA-256)
    stats: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class LoadState:
    """The bookkeeping as it is now: `raw.load_files`, `raw.load_log` (empty before the first
    load) and the tables of database `raw`."""

    load_files: list[tuple]
    load_log: list[tuple]
    tables: set[str]


def _load_state(sql: SqlExecutor) -> LoadState:
    sql.execute(f"create database if not exists {RAW_SCHEMA}")
    tables = _tables(sql)
    width = len(bookkeeping.SPARK_LOAD_FILES_COLUMNS)
    load_files = (  # rows an earlier version wrote have no sha256 (D99): None
        [
            (*r, *([None] * (width - len(r))))
            for r in sql.query(f"select * from {RAW_SCHEMA}.load_files")
        ]
        if "load_files" in tables
        else []
    )
    log_columns = ", ".join(
        f"cast({name} as string)" if name == "loaded_at" else name
        for name, _ in bookkeeping.LOAD_LOG_COLUMNS
    )
    load_log = (
        sql.query(f"select {log_columns} from {RAW_SCHEMA}.load_log")
        if "load_log" in tables
        else []
    )
    return LoadState(load_files, load_log, tables)


def _refuse_empty_local_files(folder: str) -> None:
    """A zero-byte file of a local folder, refused as the DuckDB loader refuses it. Spark's
    file listings skip zero-length files, so for another file system the Spark loader does not
    see one (docs/spark.md)."""
    if folder.startswith("file:"):
        local = Path(recorded_name(folder))
        for path in list_landing_files(local) if local.is_dir() else []:
            if path.stat().st_size == 0:
                raise empty_file_error(path)


def plan_load(
    sql: SqlExecutor,
    dataset: Dataset,
    folder: str,
    root: str,
    load_id: int,
    state: LoadState | None = None,
) -> LoadPlan:
    """What a load of `dataset` from `folder` (a Hadoop path or URI of the dataset's landing
    folder) does, decided as the DuckDB loader decides it (D16, D29) from the bookkeeping
    `state` (read now when not given); `load_id` is its id if it reads anything, `root` where
    its Parquet folders go. Raises LandingError for a folder without landing files or with a
    zero-byte one."""
    _refuse_empty_local_files(folder)
    files = list_files(sql, folder)
    if not files:
        raise LandingError(no_files_message(folder.rstrip("/").rsplit("/", 1)[0], [dataset.name]))
    for uri, size, _ in files.values():
        if size == 0:
            raise empty_file_error(uri)
    fingerprints = {name: (size, mtime) for name, (_, size, mtime) in files.items()}
    state = state or _load_state(sql)
    mine = [r for r in state.load_files if r[0] == dataset.name]
    previous = {r[1]: (r[2], r[3]) for r in mine} if dataset.name in state.tables else {}
    result = LoadResult(dataset=dataset.name)
    result.mode = bookkeeping.load_mode(dataset, previous, fingerprints)
    plan = LoadPlan(dataset, fingerprints, result)
    if result.mode == "unchanged":
        _read_totals(sql, dataset, result)
        return plan
    result.load_id = load_id
    append = result.mode == "append"
    to_load = sorted(n for n in files if n not in previous) if append else sorted(files)
    plan.spec = {
        "dataset": dataset.name,
        "files": [[files[n][0], files[n][1]] for n in to_load],
        "out": {
            "table": f"{root}/{dataset.name}/load-{load_id}",
            "quarantine": f"{root}/{dataset.name}_quarantine/load-{load_id}",
            "staging": f"{root}/staging/{dataset.name}/load-{load_id}",
        },
        "row_id_start": sum(r[5] for r in mine) if append else 0,
        "root": root,
    }
    return plan


def run_loads(
    sql: SqlExecutor, apps: AppRunner, plans: list[LoadPlan], outcomes: str
) -> list[str | None]:
    """The application's work of every plan, in one application that writes what each load did
    to `outcomes` (a folder URI); each plan's outcome: None (its folders are written, its
    per-file counts in `plan.stats`) or the one line refusing one of its files."""
    specs = [plan.spec for plan in plans if plan.spec is not None]
    if not specs:
        return [None] * len(plans)
    apps.run_app(APP, [json.dumps({"loads": specs, "outcomes": outcomes})])
    rows = sql.query(f"select * from parquet.{q(outcomes)} order by load_index, file")
    errors: list[str | None] = []
    i = 0
    for plan in plans:
        if plan.spec is None:
            errors.append(None)
            continue
        mine = [r for r in rows if r[0] == i]
        i += 1
        error = next((r[5] for r in mine if r[5] is not None), None)
        plan.stats = [
            (f, n, bad, duplicates, digest) for _, f, n, bad, duplicates, _, digest in mine
        ]
        errors.append(error)
    return errors


def finish_load(sql: SqlExecutor, plan: LoadPlan) -> LoadResult:
    """Register what the application wrote for `plan` as `raw.<dataset>` and its quarantine,
    and record the load in `raw.load_files` (the commit) and `raw.load_log`."""
    result, dataset, spec = plan.result, plan.dataset, plan.spec
    if spec is None:
        return result
    root, stats = spec["root"], plan.stats
    result.files = [
        FileStats(file=f, rows_read=n, rows_quarantined=bad, rows_loaded=n - bad)
        for f, n, bad, _, _ in stats
    ]
    digests = {f: digest for f, _, _, _, digest in stats}
    result.exact_duplicates_collapsed = stats[0][3] if stats else 0
    state = _load_state(sql)  # as the loads before this one left it
    load_files, load_log = state.load_files, state.load_log
    append = result.mode == "append"
    mine = [r for r in load_files if r[0] == dataset.name]
    kept = [r for r in load_files if r[0] != dataset.name] + (mine if append else [])
    loads = sorted({r[4] for r in kept if r[0] == dataset.name} | {result.load_id})
    tables = (dataset.name, f"{dataset.name}_quarantine")
    # one listing instead of a statement per earlier load and table on every append
    registered = {
        row[1] for row in sql.query(f"show tables in {RAW_SCHEMA} like {lit(dataset.name + '*')}")
    }
    for table in tables:
        for load in loads:
            fresh = load == result.load_id
            if fresh or load_table(table, load) not in registered:
                _register_load_table(sql, table, root, load, fresh=fresh)
        union = " union all ".join(
            f"select * from {RAW_SCHEMA}.{load_table(table, load)}" for load in loads
        )
        sql.execute(f"create or replace view {RAW_SCHEMA}.{table} as {union}")
    new_files = [
        [
            dataset.name,
            f.file,
            *plan.fingerprints[f.file],
            result.load_id,
            f.rows_read,
            f.rows_quarantined,
            digests[f.file],
        ]
        for f in result.files
    ]
    # raw.load_files is the commit: a load is part of the tables once listed there
    all_files = sorted([list(r) for r in kept] + new_files, key=lambda r: (r[0], r[1]))
    _replace_table(sql, "load_files", bookkeeping.SPARK_LOAD_FILES_COLUMNS, all_files)
    _read_totals(sql, dataset, result)
    holding = [r for r in all_files if r[0] == dataset.name]
    before = next(((r[5], r[9]) for r in load_log if r[0] == dataset.name), None)
    row = bookkeeping.log_row(result, len(holding), sum(r[5] for r in holding), before)
    log = [[*r[:6], _ts(r[6]), *r[7:]] for r in load_log if r[0] != dataset.name]
    log.append([*row[:6], "current_timestamp()", *row[6:]])
    _replace_table(sql, "load_log", bookkeeping.LOAD_LOG_COLUMNS, sorted(log, key=lambda r: r[0]))
    # the tables of the loads this one replaced (their folders stay, as before)
    for load in sorted({r[4] for r in mine} - set(loads)):
        for table in tables:
            sql.execute(f"drop table if exists {RAW_SCHEMA}.{load_table(table, load)}")
    return result


def load_table(table: str, load_id: int) -> str:
    """The name, in database `raw`, of the table over one load's folder of `table` (D95)."""
    return f"{table}__load_{load_id}"


def _register_load_table(
    sql: SqlExecutor, table: str, root: str, load_id: int, fresh: bool
) -> None:
    """A catalog table over the load's Parquet folder, its schema read once, here, instead of
    from the folder's files by every statement that reads the table (D95). `fresh`: this load's
    own, registered again in case a failed attempt with its id left one; an earlier load's is
    registered only when missing: a version before D95 left it a folder only."""
    name = f"{RAW_SCHEMA}.{load_table(table, load_id)}"
    if fresh:
        sql.execute(f"drop table if exists {name}")
    sql.execute(
        f"create table if not exists {name} using parquet "
        f"location {lit(f'{root}/{table}/load-{load_id}')}"
    )


def load_datasets_outcomes(
    sql: SqlExecutor, apps: AppRunner, folders: dict[str, str], root: str
) -> dict[str, LoadResult | LandingError]:
    """Bring `raw.<dataset>` and its quarantine in Spark's metastore up to date with each
    dataset's folder (`folders`: dataset -> a Hadoop path or URI), the files of every dataset
    read by one application (D85); `root`: where the tables' Parquet folders go. Each dataset's
    outcome: the same result, tables and bookkeeping as the DuckDB loader's `load_dataset`, or
    the LandingError refusing one of its files (its tables left as they were), as each of
    DuckDB's landing assets loads on its own."""
    state = _load_state(sql)  # every plan decides from the bookkeeping before any load
    next_id = max([r[7] for r in state.load_log if r[7] is not None] + [0]) + 1
    plans: list[LoadPlan] = []
    outcomes: dict[str, LoadResult | LandingError] = {}
    for name, folder in folders.items():
        try:
            plans.append(plan_load(sql, DATASETS[name], folder, root, next_id, state))
        except LandingError as exc:
            outcomes[name] = exc
            continue
        next_id += plans[-1].spec is not None
    reading = [plan.result.load_id for plan in plans if plan.spec is not None]
    where = f"{root}/outcomes/loads-{min(reading)}" if reading else ""
    for plan, error in zip(plans, run_loads(sql, apps, plans, where), strict=True):
        name = plan.dataset.name
        outcomes[name] = finish_load(sql, plan) if error is None else LandingError(error)
    return {name: outcomes[name] for name in folders}


def _ts(value) -> str:
    """A timestamp read back from the endpoint, as an SQL expression."""
    return "cast(null as timestamp)" if value is None else f"timestamp {lit(str(value))}"


def _read_totals(sql: SqlExecutor, dataset: Dataset, result: LoadResult) -> None:
    table = f"{RAW_SCHEMA}.{dataset.name}"
    result.rows_loaded = sql.query(f"select count(*) from {table}")[0][0]
    result.by_reason = dict(
        sql.query(f"select reason, count(*) from {table}_quarantine group by 1 order by 1")
    )
    result.rows_quarantined = sum(result.by_reason.values())
