"""`rewards spark --out FILE.parquet|.csv`: a table read back from Spark (a mart: one row per
account, read over the Thrift server) written as a file, whole or not at all (D63, D64).

The rows keep their types on the way: Spark's `decimal(p,s)` stays DECIMAL(p,s), a timestamp an
instant (written in the programme's time zone, R1), never a float.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ..finance.writing import check_writable, copy_query, write_file
from ..formatting import lit

FORMATS = (".csv", ".parquet")
# Spark's names of the types whose DuckDB name differs
_DUCKDB_TYPES = {"string": "varchar", "timestamp": "timestamptz", "int": "integer"}
_SPARK_TYPE = re.compile(r"^(string|timestamp|date|boolean|int|bigint|decimal\(\d+,\d+\))$")


def duckdb_columns(schema: Sequence[tuple[str, str]]) -> list[str]:
    """`"column" TYPE` for each (column, Spark type): DuckDB's exact counterpart of each type;
    ValueError for a type without one."""
    columns = []
    for name, spark_type in schema:
        if not _SPARK_TYPE.match(spark_type):
            raise ValueError(f"cannot copy column {name} of Spark type {spark_type}")
        columns.append(f'"{name}" {_DUCKDB_TYPES.get(spark_type, spark_type)}')
    return columns


def arrow_table(columns: Sequence[tuple[str, str]], rows: Sequence[dict]):
    """The rows as an Arrow table of the columns' exact types (no float on the way)."""
    import pyarrow as pa

    def arrow_type(spark_type: str):
        if spark_type.startswith("decimal("):
            precision, scale = spark_type[len("decimal(") : -1].split(",")
            return pa.decimal128(int(precision), int(scale))
        return {
            "string": pa.string(),
            "bigint": pa.int64(),
            "int": pa.int32(),
            "boolean": pa.bool_(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }[spark_type]

    return pa.table(
        {name: pa.array([row[name] for row in rows], arrow_type(kind)) for name, kind in columns}
    )


def check_out(out_file: Path) -> None:
    """Refuse a format we do not write and an unwritable place, before any work: ValueError or
    CannotWrite, one line."""
    if out_file.suffix.lower() not in FORMATS:
        raise ValueError(f"--out must end in {', '.join(FORMATS)}, got {out_file.name!r}")
    check_writable(out_file)


def write_rows(
    rows: Sequence[dict], schema: Sequence[tuple[str, str]], out_file: Path, timezone: str
) -> int:
    """Write `rows` (dicts by column) with `schema` ((column, Spark type), in order) to
    `out_file` as CSV with a header or Parquet; returns the rows written."""
    check_out(out_file)
    columns = duckdb_columns(schema)
    options = "format csv, header true" if out_file.suffix.lower() == ".csv" else "format parquet"

    incoming = arrow_table(schema, rows)

    def write(tmp: Path) -> int:
        with duckdb.connect() as con:
            con.execute(f"set TimeZone = {lit(timezone)}")
            con.execute(f"create table t ({', '.join(columns)})")
            con.register("incoming", incoming)
            con.execute("insert into t select * from incoming")
            copy_query(con, "select * from t", tmp, options)
        return len(rows)

    return write_file(out_file, write)
