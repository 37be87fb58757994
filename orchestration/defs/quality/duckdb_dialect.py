"""A SQLAlchemy dialect that lets Great Expectations' SQL execution engine read DuckDB.

Why it exists: GX runs each metric query as
`with engine.connect() as c: result = c.execute(q)` and only calls `result.fetchall()` after the
connection has gone back to the pool. duckdb-engine's cursor is the DuckDB connection itself, so
the ROLLBACK SQLAlchemy issues on release discards the pending result: every metric came back as
an empty list (`IndexError: list index out of range`), and GX reported every expectation as
failed. That is the "broken SQL datasource over duckdb-engine" seen in the first probe.

The fix is the standard SQLAlchemy hook for drivers without independent cursors: fetch the rows
inside the execution context (`post_exec`) into a fully buffered result. GX only asks DuckDB for
aggregates and small samples, so the buffer is always a handful of rows; the scans themselves
stay inside DuckDB. Registered as `duckdb+buffered://`.

It also never pools connections: GX creates engines it does not dispose of, and a pooled DuckDB
connection would keep the warehouse file locked against the dbt process of the next step.
"""

from __future__ import annotations

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy
from sqlalchemy.pool import NullPool

DIALECT_NAME = "duckdb.buffered"
URL_SCHEME = "duckdb+buffered"


class BufferedExecutionContext(DuckDBDialect.execution_ctx_cls):  # type: ignore[name-defined]
    def post_exec(self) -> None:
        super().post_exec()
        if self.cursor.description is not None:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(
                self.cursor, self.cursor.description, self.cursor.fetchall()
            )


class BufferedDuckDBDialect(DuckDBDialect):
    execution_ctx_cls = BufferedExecutionContext
    supports_statement_cache = False  # as duckdb-engine itself; silences SQLAlchemy's warning

    @classmethod
    def get_pool_class(cls, url):
        return NullPool  # each connection closes the file when GX is done with it


def register() -> None:
    registry.register(DIALECT_NAME, __name__, "BufferedDuckDBDialect")


def url(path: str) -> str:
    return f"{URL_SCHEME}:///{path}"
