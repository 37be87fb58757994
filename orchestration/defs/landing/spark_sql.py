"""The data contract as Spark SQL: the counterpart of `duckdb_sql.py`, from the same declaration
(`orchestration/contract.py`), the same text formats and the same order of reasons
(`quarantine.py`). Spark's casts are more lenient than the contract (a bare date or a time
without seconds as a timestamp, `12.345` rounded into a decimal(18,2), `+5`, ` 10`): a value
must match the contract's format before it is cast, as on DuckDB (D33, D70).

Source types are Spark's `simpleString()` names; a Parquet column Spark could read only as
`long` because it holds nanosecond timestamps is passed as `timestamp_nanos` (adjusted to UTC)
or `timestamp_ntz_nanos` (local), see `spark_app.py`.
"""

from __future__ import annotations

from ...contract import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONEY,
    SPARK_STORAGE_TYPE,
    STRING,
    TIMESTAMP,
    Column,
    Dataset,
)
from .quarantine import INSTANT_TEXT, LOCAL_TEXT, TEXT_FORMATS, cascade

# Spark type each contract kind is stored as in database `raw` (what the dbt models read)
SPARK_TYPE = SPARK_STORAGE_TYPE
_INTEGER_TYPES = {"tinyint", "smallint", "int", "bigint"}


def q(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def lit(value: str) -> str:
    """A Spark SQL string literal (Spark reads backslash escapes in literals)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _matched(src: str, pattern: str, target: str) -> str:
    """The text cast to `target` when it matches `pattern` (and the cast, the calendar)."""
    cast = f"try_cast({_seconds(src, target)} as {target})"
    return f"case when {src} rlike {lit(pattern)} then {cast} end"


def _seconds(src: str, target: str) -> str:
    """ISO-8601 lets a time omit its seconds (`10:00Z`), which DuckDB's cast reads and Spark's
    does not: the seconds are written out before Spark casts."""
    if target not in ("timestamp", "timestamp_ntz"):
        return src
    return f"regexp_replace({src}, '([T ][0-9]{{2}}:[0-9]{{2}})(Z|[+-]|$)', '$1:00$2')"


def parse(column: Column, source_type: str) -> tuple[str, list[tuple[str, str]]]:
    """Spark SQL for the typed value of `column` and its (condition, reason) checks, in cascade
    order; the same rules as duckdb_sql.parse, in Spark's types."""
    src = q(column.name)
    target = SPARK_TYPE[column.kind]
    text = source_type == "string"
    unparseable = "unparseable_value"
    if column.kind == STRING:
        if text:
            return src, []
        return f"cast({src} as string)", [("true", unparseable)]
    if column.kind == TIMESTAMP:
        if text:
            typed = _matched(src, INSTANT_TEXT, "timestamp")
            local = _matched(src, LOCAL_TEXT, "timestamp_ntz")
            return typed, [
                (f"({typed}) is null and ({local}) is null", unparseable),
                (f"({typed}) is null", "timestamp_without_zone"),
            ]
        if source_type == "timestamp_ntz":
            return f"cast({src} as timestamp)", [("true", "timestamp_without_zone")]
        if source_type == "timestamp_ntz_nanos":
            return "cast(null as timestamp)", [("true", "timestamp_without_zone")]
        if source_type == "timestamp_nanos":  # kept in microseconds: finer instants are refused
            typed = f"timestamp_micros(div({src}, 1000))"
            return typed, [(f"pmod({src}, 1000) <> 0", unparseable)]
        if source_type != "timestamp":
            return "cast(null as timestamp)", [("true", unparseable)]
        return src, []
    if text:
        typed = (
            f"case {src} when 'true' then true when 'false' then false end"
            if column.kind == BOOLEAN
            else _matched(src, TEXT_FORMATS[column.kind], target)
        )
        return typed, [(f"({typed}) is null", unparseable)]
    # A typed (Parquet) source must be the contract's type: date, boolean, an integer type, a
    # decimal for money, exact at 2 places (floats and integer money are refused, as on DuckDB).
    typed = f"try_cast({src} as {target})"
    accepted = {
        DATE: source_type == "date",
        BOOLEAN: source_type == "boolean",
        INTEGER: source_type in _INTEGER_TYPES,
        MONEY: source_type.startswith("decimal"),
    }
    if not accepted[column.kind]:
        return f"cast(null as {target})", [("true", unparseable)]
    if column.kind in (MONEY, INTEGER):
        return typed, [(f"{typed} is null or {typed} <> {src}", unparseable)]
    return typed, [(f"{typed} is null", unparseable)]


def as_duckdb_text(column: str, spark_type: str) -> str:
    """A value as DuckDB's `cast(... as varchar)` writes it (the quarantine's `record`, D71):
    an instant with its `+00` (the session is in UTC), the rest as Spark writes it."""
    src = q(column)
    if spark_type in ("timestamp",):
        return f"concat(cast({src} as string), '+00')"
    if spark_type == "timestamp_nanos":  # DuckDB's TIMESTAMP_NS text, approximated in µs
        return f"concat(cast(timestamp_micros(div({src}, 1000)) as string), '+00')"
    return f"cast({src} as string)"


def record_json(columns: list[str], types: dict[str, str], prefix: str = "") -> str:
    """The original values of a row as a JSON object of strings, nulls kept (the quarantine's
    `record`, as DuckDB's json_object writes it); `prefix`: the columns' names in the query."""
    fields = ", ".join(f"{lit(c)}, {as_duckdb_text(prefix + c, types[c])}" for c in columns)
    return f"to_json(named_struct({fields}), map('ignoreNullFields', 'false'))"


def checked_select(source: str, dataset: Dataset, types: dict[str, str]) -> str:
    """One row per file row of view `source` (its contract columns, `__file`, `__row`): typed
    columns, `__reason`/`__detail` (null when the row is good) and, for a bad row, `__record`
    (its original values)."""
    typed_cols, reason, detail, rule = cascade(dataset, types, parse, lit, q, "string")
    names = ", ".join(q(c) for c in dataset.column_names)
    originals = ", ".join(f"{q(c)} as {q('__src_' + c)}" for c in dataset.column_names)
    record = record_json(dataset.column_names, types, "__src_")
    return f"""
        with parsed as (
            select
                {", ".join(typed_cols)},
                {reason} as __source_reason,
                {detail} as __source_detail,
                {originals},
                __file,
                __row
            from {source}
        ),
        reasoned as (
            select *, coalesce(__source_reason, {rule}) as __reason from parsed
        )
        select
            {names}, __file, __row, __reason,
            case when __source_reason is not null then __source_detail end as __detail,
            case when __reason is not null then {record} end as __record
        from reasoned
    """
