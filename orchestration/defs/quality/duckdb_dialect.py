"""A SQLAlchemy dialect that lets Great Expectations' SQL execution engine read DuckDB.

Why it exists: GX runs each metric query as
`with engine.connect() as c: result = c.execute(q)` and only calls `result.fetchall()` after the
connection has gone back to the pool. duckdb-engine's cursor is the DuckDB connection itself, so
the ROLLBACK SQLAlchemy issues on release discards the pending result: every metric came back as
an empty list (`IndexError: list index out of range`), and GX reported every expectation as
failed. That is the "broken SQL datasource over duckdb-engine" seen in the first probe.

The fix, registered as `duckdb+buffered://`:
- rows are fetched inside the execution context (`post_exec`), SQLAlchemy's hook for drivers
  without independent cursors, so the result survives the release of the connection;
- at most BUFFERED_ROWS rows are fetched. GX asks DuckDB for aggregates, LIMITed samples and
  up to 200 unexpected rows (`fetchmany`); anything that would pull more into Python, a whole
  table, fails loudly instead (`ResultTooLarge`) -- it is never truncated silently;
- the warehouse is opened once per suite, not once per query: GX opens a connection for each of
  its ~13 metric queries of a suite, and each DuckDB open of the file cost ~20 ms (4.5 s of a
  small run). SQLAlchemy's connections are cursors of that one database handle (`duplicate()`),
  unpooled as before; `release()` closes the handle once the suite is validated, so the file is
  free for the next dbt step (GX creates engines it does not dispose of);
- `connect_args={"search_path": "raw"}` sets DuckDB's search path on every connection, so GX
  table assets can name a table without its schema (GX drops the schema when it reflects
  columns on this dialect).
"""

from __future__ import annotations

import collections
import threading
from urllib.parse import quote

from duckdb_engine import ConnectionWrapper
from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy
from sqlalchemy.pool import NullPool

from ...formatting import lit

DIALECT_NAME = "duckdb.buffered"
URL_SCHEME = "duckdb+buffered"
BUFFERED_ROWS = 10_000


class ResultTooLarge(RuntimeError):
    pass


class _CappedBufferStrategy(FullyBufferedCursorFetchStrategy):
    """The first BUFFERED_ROWS rows; fetching all of a longer result raises."""

    def __init__(self, dbapi_cursor, description, rows: list, truncated: bool) -> None:
        super().__init__(dbapi_cursor, description, rows)
        self._truncated = truncated

    def fetchall(self, result, dbapi_cursor):
        if self._truncated:
            raise ResultTooLarge(
                f"a query returned more than {BUFFERED_ROWS:,} rows; the quality checks "
                "aggregate inside DuckDB and never pull a table into Python"
            )
        return super().fetchall(result, dbapi_cursor)

    def fetchmany(self, result, dbapi_cursor, size=None):
        if size is None or (self._truncated and size > len(self._rowbuffer)):
            return self.fetchall(result, dbapi_cursor)
        return super().fetchmany(result, dbapi_cursor, size)


class BufferedExecutionContext(DuckDBDialect.execution_ctx_cls):  # type: ignore[name-defined]
    def post_exec(self) -> None:
        super().post_exec()
        if self.cursor.description is not None:
            rows = self.cursor.fetchmany(BUFFERED_ROWS + 1)
            self.cursor_fetch_strategy = _CappedBufferStrategy(
                self.cursor,
                self.cursor.description,
                collections.deque(rows[:BUFFERED_ROWS]),
                truncated=len(rows) > BUFFERED_ROWS,
            )


class BufferedDuckDBDialect(DuckDBDialect):
    execution_ctx_cls = BufferedExecutionContext
    supports_statement_cache = False  # as duckdb-engine itself; silences SQLAlchemy's warning

    @classmethod
    def get_pool_class(cls, url):
        return NullPool  # each connection closes the file when GX is done with it

    def connect(self, *cargs, **cparams):
        search_path = cparams.pop("search_path", None)
        key = repr((cargs, sorted(cparams.items())))
        with _LOCK:
            if key not in _OPEN:
                _OPEN[key] = super().connect(*cargs, **cparams)
            connection = ConnectionWrapper(_OPEN[key].duplicate())
        if search_path:
            connection.execute(f"set search_path = {lit(str(search_path))}")
        return connection


# The database handles opened by GX's connections, one per file and configuration, until release()
_OPEN: dict[str, ConnectionWrapper] = {}
_LOCK = threading.Lock()


def release() -> None:
    """Close the warehouse handles GX opened, so another process or a writer can take the file."""
    with _LOCK:
        while _OPEN:
            _OPEN.popitem()[1].close()


def register() -> None:
    registry.register(DIALECT_NAME, __name__, "BufferedDuckDBDialect")


def url(path: str) -> str:
    """The SQLAlchemy URL of the warehouse file, its path percent-encoded (SQLAlchemy decodes
    the database part): a `?`, `#` or `%` in a folder name stays a path, and no `$` reaches
    Great Expectations, which would substitute `$NAME` in a connection string."""
    return f"{URL_SCHEME}:///{quote(str(path), safe='/')}"
