"""SQL over a Spark Thrift server, through PyHive (what dbt-spark's `thrift` method uses).

PyHive's `fetchall()` after a statement without a result set (DDL) raises `'NoneType' object is
not iterable` (dropbox/PyHive#388): `execute` runs a statement and fetches nothing, `query` runs
one that returns rows. `read_table` gives a table's rows with the project's Python types: Decimal
money, int points, bool flags, dates, and timestamps as aware UTC instants, read as microseconds
since the epoch so that no session time zone enters the conversion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SparkSqlError(RuntimeError):
    """A statement the Thrift server refused: its error message in one line."""


def _message(exc: Exception) -> str:
    """The server's error message of a PyHive error (its argument is the Thrift response)."""
    response = exc.args[0] if exc.args else None
    status = getattr(response, "status", None)
    text = getattr(status, "errorMessage", None) or str(exc)
    return " ".join(text.split())[:1000]


@contextmanager
def _cursor(connection, sql: str):
    from pyhive import exc

    cursor = connection.cursor()
    try:
        yield cursor
    except exc.Error as error:
        raise SparkSqlError(f"{_message(error)} (in: {' '.join(sql.split())[:200]})") from None
    finally:
        cursor.close()


class ThriftSql:
    """One session of a Thrift server (its temporary views and SET values are its own)."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows (DDL, SET, INSERT); fetch nothing."""
        with _cursor(self.connection, sql) as cursor:
            cursor.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        """The rows of a query."""
        with _cursor(self.connection, sql) as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(column, Spark type) of a table, in order."""
        out = []
        for name, data_type, *_ in self.query(f"describe {table}"):
            if not name or name.startswith("#"):  # partition information follows
                break
            out.append((name, data_type))
        return out

    def read_table(self, table: str, order_by: str | None = None) -> list[dict[str, Any]]:
        """Every row of `table` as a dict, with the project's Python types (module docstring)."""
        columns = self.columns(table)
        selected = ", ".join(
            f"unix_micros(`{name}`) as `{name}`" if kind == "timestamp" else f"`{name}`"
            for name, kind in columns
        )
        sql = f"select {selected} from {table}" + (f" order by {order_by}" if order_by else "")
        rows = self.query(sql)
        return [
            {name: _value(kind, value) for (name, kind), value in zip(columns, row, strict=True)}
            for row in rows
        ]

    def close(self) -> None:
        self.connection.close()


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return EPOCH + timedelta(microseconds=int(value))
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind in ("bigint", "int", "smallint", "tinyint"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value  # Decimal (PyHive parses decimals), str


@contextmanager
def thrift_connection(host: str, port: int, username: str = "rewards") -> Iterator[ThriftSql]:
    """A session of the Thrift server at host:port, closed when the block ends."""
    from pyhive import hive

    sql = ThriftSql(hive.connect(host=host, port=port, username=username))
    try:
        yield sql
    finally:
        sql.close()
