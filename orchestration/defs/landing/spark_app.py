"""The Spark loader's application: landing files -> Parquet folders of `raw.<dataset>` and its
quarantine, with the contract checked in Spark SQL (spark_sql.py). It never touches a metastore:
`spark_loader.py` registers what it writes through the SQL endpoint (the Thrift server).

    spark-submit orchestration/spark/app_launcher.py \
        orchestration.defs.landing.spark_app:main '{"loads": [spec, ...], "outcomes": uri}'
    main(spark, ['{"loads": ..., "outcomes": ...}'])   # the same, in a running session

One application loads every dataset of a landing (an application's start costs ~20 s on the
local cluster). Each load's spec: {"dataset", "files": [[uri, size], ...], "out": {"table",
"quarantine", "staging"}, "row_id_start", "root"}.

CSV files are not read by Spark's CSV reader (lenient: D70): each executor reads whole files
(`binaryFiles`) and parses them with Python's csv module, as strictly as DuckDB's reader and
with the same line numbers and words (files.py, csv_fallback.py); the rows go to an all-text
Parquet staging folder with their file and row. Parquet files are read with Spark's Parquet
reader, their types checked as on DuckDB. A file that cannot be read ends its load with one line
naming it (a LandingError's), written with the other loads' outcomes; the other loads go on.

Each file's SHA-256 is recorded for the serving copy (D99): a CSV file's from the bytes its
executor parsed; a Parquet file's, when no local path reaches it (a lake landing, where the copy
cannot hash it), by the binaryFile source's `sha2` on an executor. A local Parquet file is hashed
by the serving copy, as on DuckDB.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ...contract import DATASETS, KEY_REASON, Dataset
from .csv_fallback import plain_words
from .files import (
    NOT_PARQUET,
    UTF8_HINT,
    LandingError,
    header_names,
    missing_columns,
    reader,
    shown,
)
from .quarantine import key_detail
from .spark_sql import SPARK_TYPE, checked_select, lit, q, record_json


def recorded_name(uri: str) -> str:
    """A landing file as the bookkeeping names it: a local file by its path (as the DuckDB
    loader records it), any other file system's file by its URI."""
    if uri.startswith("file:///"):
        return uri[len("file://") :]
    if uri.startswith("file:/"):
        return uri[len("file:") :]
    return uri


def parse_csv(uri: str, content: bytes, dataset_name: str) -> list[tuple]:
    """One CSV file's records as (file, row, error, *contract values as text or None), row 1 the
    first record after the header; or one row with the error that stops the file (a LandingError
    message: the header's, or `line N: ...` where the file is not strict CSV)."""
    name = recorded_name(uri)
    dataset = DATASETS[dataset_name]
    columns = dataset.column_names

    def error(phase: int, message: str) -> list[tuple]:
        return [(name, -phase, message, *([None] * len(columns)))]

    first_line = content.split(b"\n", 1)[0] + b"\n"
    try:
        header = header_names(uri, first_line)
    except LandingError as exc:
        return error(1, str(exc))
    try:
        missing_columns(uri, dataset, header)
    except LandingError as exc:
        return error(1, str(exc))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return error(2, f"{shown(uri)}: line {line}: not UTF-8 text ({UTF8_HINT})")
    positions = [header.index(c) for c in columns]
    records = csv.reader(
        io.StringIO(text, newline=""), delimiter=",", quotechar='"', doublequote=True, strict=True
    )
    rows, number = [], 0
    try:
        next(records)
        line = records.line_num
        for record in records:
            start, line = line + 1, records.line_num
            if not record:  # a blank line is no record (DuckDB skips them too)
                continue
            if len(record) != len(header):
                return error(
                    2,
                    f"{shown(uri)}: line {start}: {len(record)} fields where the header has "
                    f"{len(header)}",
                )
            number += 1
            rows.append((name, number, None, *(record[i] or None for i in positions)))
    except csv.Error as exc:
        return error(2, f"{shown(uri)}: line {records.line_num}: {plain_words(str(exc))}")
    return rows


def digest_row(uri: str, content: bytes, width: int) -> tuple:
    """A staged CSV file's SHA-256, as a row of its own: row 0, no error, no values."""
    digest = hashlib.sha256(content).hexdigest()
    return (recorded_name(uri), 0, None, *([None] * width), digest)


def _stage_csv(spark, dataset: Dataset, uris: list[str], staging: str):
    """Every CSV file parsed in the executors and written as all-text Parquet; the staged
    rows, every file's error (by (file, phase)) and every file's SHA-256 (by file)."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    columns = dataset.column_names
    schema = StructType(
        [
            StructField("__file", StringType()),
            StructField("__row", LongType()),
            StructField("__error", StringType()),
            *(StructField(c, StringType()) for c in columns),
            StructField("__sha256", StringType()),
        ]
    )
    files = spark.sparkContext.binaryFiles(",".join(uris), minPartitions=len(uris))
    name, width = dataset.name, len(columns)
    rows = files.flatMap(
        lambda item: [
            digest_row(item[0], item[1], width),
            *(row + (None,) for row in parse_csv(item[0], item[1], name)),
        ]
    )
    spark.createDataFrame(rows, schema).write.mode("overwrite").parquet(staging)
    staged = spark.read.parquet(staging)
    # the errors and the digests, in one job
    notes = staged.where("__error is not null or __row = 0").select(
        "__row", "__file", "__error", "__sha256"
    )
    errors, digests = {}, {}
    for r in notes.collect():
        if r["__row"] == 0:
            digests[r["__file"]] = r["__sha256"]
        else:
            errors[(r["__file"], -r["__row"])] = r["__error"]
    records = staged.where("__error is null and __row > 0").drop("__error", "__sha256")
    return records, errors, digests


_INT_TYPES = {  # (bit width, signed) -> Spark's type, as Spark reads a Parquet INT annotation
    (8, True): "tinyint",
    (16, True): "smallint",
    (32, True): "int",
    (64, True): "bigint",
    (8, False): "smallint",
    (16, False): "int",
    (32, False): "bigint",
    (64, False): "decimal(20,0)",
}
_PLAIN_TYPES = {  # physical type without annotation -> Spark's type
    "BOOLEAN": "boolean",
    "INT32": "int",
    "INT64": "bigint",
    "INT96": "timestamp",
    "FLOAT": "float",
    "DOUBLE": "double",
    "BYTE_ARRAY": "binary",
    "FIXED_LEN_BYTE_ARRAY": "binary",
}


def spark_type_of(column) -> str | None:
    """The type Spark 3.5 gives a flat Parquet column (pyarrow's ColumnSchema), as its Parquet
    schema converter does; None for anything else (Spark then reads the file itself)."""
    logical = json.loads(column.logical_type.to_json())
    kind, physical = logical.get("Type"), column.physical_type
    if kind == "None":
        return _PLAIN_TYPES.get(physical) if column.converted_type == "NONE" else None
    if kind == "Decimal":
        return f"decimal({logical['precision']},{logical['scale']})"
    if kind == "Int" and physical in ("INT32", "INT64"):
        return _INT_TYPES.get((logical["bitWidth"], logical["isSigned"]))
    if kind == "Date" and physical == "INT32":
        return "date"
    if kind in ("String", "Enum", "Json") and physical == "BYTE_ARRAY":
        return "string"
    if kind == "Timestamp" and physical == "INT64":
        zone = "timestamp" if logical["isAdjustedToUTC"] else "timestamp_ntz"
        unit = logical["timeUnit"]
        return {"milliseconds": zone, "microseconds": zone, "nanoseconds": f"{zone}_nanos"}.get(
            unit
        )
    return None


def local_parquet_types(uri: str) -> dict[str, str] | None:
    """Column -> Spark type of a local Parquet file, from its footer read here (pyarrow): no
    Spark job per file, which costs ~0.5 s each (Spark's schema inference is a job). None when
    the file is not local, is not a readable Parquet file, or has a column Spark would read
    otherwise than `spark_type_of` knows: `_parquet_types` then asks Spark, whose refusal
    gives the file's one line."""
    if not uri.startswith("file:"):
        return None
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(recorded_name(uri)).schema
    except Exception:  # noqa: BLE001 -- not Parquet, truncated, unreadable: Spark says which
        return None
    types = {}
    for column in schema:
        spark_type = spark_type_of(column)
        if spark_type is None or column.max_repetition_level > 0 or "." in column.path:
            return None
        types[column.path] = spark_type
    return types


def _parquet_types(spark, uri: str) -> dict[str, str]:
    """Column -> Spark type of one Parquet file; a LandingError naming it when it is no Parquet
    file. Nanosecond timestamps, which Spark 3.5 refuses, are read as longs (`*_nanos`)."""
    try:
        schema = spark.read.parquet(uri).schema
        return {f.name: f.dataType.simpleString() for f in schema.fields}
    except Exception as exc:  # noqa: BLE001 -- Spark's AnalysisException or a Java error
        text = str(exc)
    if "TIMESTAMP(NANOS" not in text:
        if "is not a Parquet file" in text or "magic number" in text or "EOFException" in text:
            raise LandingError(f"{shown(uri)}: {NOT_PARQUET}") from None
        first = text.strip().splitlines()[0] if text.strip() else "unreadable"
        raise LandingError(f"{shown(uri)}: {first.replace(uri, shown(uri))}") from None
    # INT64 (TIMESTAMP(NANOS,true)): instants; (NANOS,false): local times
    nanos = "timestamp_nanos" if "TIMESTAMP(NANOS,true)" in text else "timestamp_ntz_nanos"
    schema = spark.read.option("mergeSchema", "false").parquet(uri).schema
    return {
        f.name: nanos if f.dataType.simpleString() == "bigint" else f.dataType.simpleString()
        for f in schema.fields
    }


OUTCOME_SCHEMA = (
    "load_index int, file string, rows_read bigint, rows_quarantined bigint, "
    "exact_duplicates_collapsed bigint, error string, sha256 string"
)


def main(spark, argv: list[str]) -> None:
    """Every load of `argv[0]` (JSON: {"loads": [spec, ...], "outcomes": uri}) in turn. A file
    one load refuses ends that load only. What each load did -- per file, its rows read and
    quarantined, or the line refusing it -- is written once, to `outcomes` (one job for all),
    which the loader reads through the SQL endpoint."""
    work = json.loads(argv[0])
    rows: list[tuple] = []
    for i, spec in enumerate(work["loads"]):
        try:
            stats, duplicates = _load(spark, spec)
        except LandingError as exc:
            rows.append((i, None, None, None, None, str(exc), None))
            continue
        rows += [(i, f, n, bad, duplicates, None, digest) for f, n, bad, digest in stats]
    spark.createDataFrame(rows, OUTCOME_SCHEMA).coalesce(1).write.mode("overwrite").parquet(
        work["outcomes"]
    )


@contextmanager
def _phase(dataset: str, what: str) -> Iterator[None]:
    """A line in the application's log with how long a phase of a load took."""
    started = time.monotonic()
    yield
    print(
        f"rewards-load: {dataset}: {what} in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def _load(spark, spec: dict) -> tuple[list[tuple], int]:
    """One load's folders written; its (file, rows read, rows quarantined, SHA-256) and exact
    duplicates collapsed."""
    with _phase(spec["dataset"], f"{len(spec['files'])} files loaded"):
        return _load_files(spark, spec)


def _load_files(spark, spec: dict) -> tuple[list[tuple], int]:
    dataset = DATASETS[spec["dataset"]]
    out = spec["out"]
    uris = [uri for uri, _ in spec["files"]]
    columns = dataset.column_names
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    errors: dict[tuple[str, int], str] = {}
    digests: dict[str, str] = {}
    batches = []  # (view, types)
    csv_uris = [u for u in uris if reader(u) == "csv"]
    if csv_uris:
        with _phase(dataset.name, f"{len(csv_uris)} CSV files parsed and staged"):
            staged, errors, digests = _stage_csv(spark, dataset, csv_uris, out["staging"])
        staged.createOrReplaceTempView("__csv")
        batches.append(("__csv", dict.fromkeys(columns, "string")))
    groups: dict[tuple, list[str]] = {}
    parquet = [u for u in uris if reader(u) == "parquet"]
    with _phase(dataset.name, f"{len(parquet)} Parquet schemas read"):
        for uri in parquet:
            try:
                types = local_parquet_types(uri) or _parquet_types(spark, uri)
                missing_columns(uri, dataset, types)
            except LandingError as exc:
                errors[(recorded_name(uri), 1)] = str(exc)
                continue
            groups.setdefault(tuple((c, types[c]) for c in columns), []).append(uri)
    if errors:  # as DuckDB's loader: every file's header first, then the rows, by file
        raise LandingError(errors[min(errors, key=lambda k: (k[1], k[0]))])
    # a local Parquet file is hashed by the serving copy (its path reaches it); only a file no
    # local path reaches is read once more here, for its digest
    remote = [u for u in parquet if not u.startswith("file:")]
    if remote:
        with _phase(dataset.name, f"{len(remote)} Parquet files hashed"):
            digests |= _parquet_digests(spark, remote)
    nanos = any(t.endswith("_nanos") for key in groups for _, t in key)
    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", str(nanos).lower())
    for i, (key, group) in enumerate(groups.items()):
        view = f"__parquet{i}"
        frame = spark.read.parquet(*group).selectExpr(
            *(q(c) for c in columns),
            "_metadata.file_path as __uri",
            "_metadata.row_index + 1 as __row",
        )
        frame.createOrReplaceTempView(view + "_uri")
        spark.sql(
            f"select {', '.join(q(c) for c in columns)}, __row, case when __uri like 'file:/%' "
            f"then regexp_replace(__uri, '^file:(//)?', '') else __uri end as __file "
            f"from {view}_uri"
        ).createOrReplaceTempView(view)
        batches.append((view, dict(key)))
    checked = " union all ".join(
        f"select * from ({checked_select(view, dataset, types)})" for view, types in batches
    )
    # every row checked once: the counts, the table and the quarantine all read it (kept in the
    # executors' memory, spilling to their disks), instead of reading every file again for each
    from pyspark import StorageLevel

    frame = spark.sql(checked).persist(StorageLevel.MEMORY_AND_DISK)
    frame.createOrReplaceTempView("__checked")
    try:
        stats, duplicates = _write(spark, dataset, spec, out)
    finally:
        frame.unpersist()
    return [(f, n, bad, digests.get(f)) for f, n, bad in stats], duplicates


def _parquet_digests(spark, uris: list[str]) -> dict[str, str]:
    """Recorded name -> SHA-256 of each Parquet file, computed on the executors (a file's bytes
    are one value there: up to 2 GiB, within an executor's memory)."""
    frame = spark.read.format("binaryFile").load(uris).selectExpr("path", "sha2(content, 256)")
    return {recorded_name(path): digest for path, digest in frame.collect()}


def _write(spark, dataset: Dataset, spec: dict, out: dict) -> tuple[list[tuple], int]:
    columns = dataset.column_names
    cols = ", ".join(q(c) for c in columns)
    typed = {c.name: SPARK_TYPE[c.kind] for c in dataset.columns}
    # rows per file, files in name order: each file's rows get the next block of `_row_id`s
    with _phase(dataset.name, "rows checked and counted per file"):
        counts = spark.sql(
            "select __file, count(*) as n, count(__reason) as bad from __checked group by __file"
        ).collect()
    start, offsets, stats = spec["row_id_start"], [], []
    for row in sorted(counts, key=lambda r: r["__file"]):
        offsets.append((row["__file"], start))
        stats.append((row["__file"], row["n"], row["bad"]))
        start += row["n"]
    spark.createDataFrame(offsets, "__file string, __offset bigint").createOrReplaceTempView(
        "__offsets"
    )
    spark.sql(
        f"select /*+ broadcast(o) */ {cols}, c.__file, c.__row, c.__reason, c.__detail, "
        "c.__record, o.__offset + c.__row - 1 as _row_id "
        "from __checked c join __offsets o on c.__file = o.__file"
    ).createOrReplaceTempView("__numbered")
    good = "select * from __numbered where __reason is null"
    bad = (
        f"select {lit(dataset.name)} as dataset, __file as source_file, __row as source_row, "
        "__reason as reason, __detail as detail, __record as record "
        "from __numbered where __reason is not null"
    )
    duplicates = 0
    if dataset.unique_key:
        key = ", ".join(q(c) for c in dataset.unique_key)
        spark.sql(good).createOrReplaceTempView("__good")
        spark.sql(
            f"select {key} from __good group by {key} having count(distinct struct({cols})) > 1"
        ).createOrReplaceTempView("__conflicting")
        conflicting = (
            f"select {lit(dataset.name)}, __file, __row, {lit(KEY_REASON)}, "
            f"{lit(key_detail(dataset))}, {record_json(columns, typed)} "
            f"from __good left semi join __conflicting using ({key})"
        )
        bad = f"{bad} union all {conflicting}"
        good = (
            f"select {cols}, __file, __row, _row_id from (select *, row_number() over "
            f"(partition by {key} order by __file, __row) as __n "
            f"from __good left anti join __conflicting using ({key})) where __n = 1"
        )
    table = spark.sql(good).selectExpr(
        *(q(c) for c in columns), "__file as _source_file", "__row as _source_row", "_row_id"
    )
    with _phase(dataset.name, "table and quarantine written"):
        table.write.mode("overwrite").parquet(out["table"])
        spark.sql(bad).write.mode("overwrite").parquet(out["quarantine"])
    if dataset.unique_key:
        loaded = spark.read.parquet(out["table"]).count()
        quarantined = spark.read.parquet(out["quarantine"]).count()
        duplicates = sum(n for _, n, _ in stats) - loaded - quarantined
    return stats, duplicates
