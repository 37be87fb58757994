"""Run one suite of `expectations/` on Spark, through a Spark Thrift server (D81).

The same GX SQL datasource as on DuckDB (validation.py), on PyHive's SQLAlchemy dialect
(`hive://`): GX compiles each expectation into Spark SQL that the Thrift server runs on the
cluster; only counts and a few sample rows come back. The suites are the same declarations in
Spark's SQL (`all_suites(rule_vars, engine="spark")`, expectations/dialects.py). No JVM runs in
this process, and the Thrift server stays the one process that owns the metastore.

Results and Data Docs go to the same quality folder as DuckDB's. Every row is validated on every
run (D83): the check scopes of D30 are DuckDB's.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from expectations import Suite
from expectations.dialects import SparkSql

from .validation import CheckOutcome, check_outcomes, docs_page_url, gx_context, run_checkpoint

DATASOURCE = "spark"
USERNAME = "rewards"  # the Thrift server's session user (no authentication on loopback)
_SQL = SparkSql()


@dataclass(frozen=True)
class ThriftServer:
    """Where a Spark Thrift server listens (binary transport, no authentication)."""

    host: str
    port: int

    def url(self, schema: str) -> str:
        """The SQLAlchemy URL of one database (schema) of the server."""
        return f"hive://{USERNAME}@{self.host}:{self.port}/{schema}"


def _datasource(context, server: ThriftServer, schema: str):
    """The GX datasource of `schema` on `server`."""
    return context.data_sources.add_or_update_sql(
        name=f"{DATASOURCE}_{schema}", connection_string=server.url(schema), create_temp_table=False
    )


def _loaded_files(datasource) -> dict[str, list[str]]:
    """Every dataset's loaded files (`raw.load_files` on Spark): the scopes' `{files:...}`."""
    from sqlalchemy import text

    found: dict[str, list[str]] = {}
    with datasource.get_engine().connect() as con:
        rows = con.execute(text("select dataset, file from raw.load_files order by file"))
        for dataset, file in rows.fetchall():
            found.setdefault(dataset, []).append(file)
    return found


def run_suite_on_spark(
    suite: Suite,
    server: ThriftServer,
    quality_dir: Path,
    run_name: str | None = None,
    files: Mapping[str, list[str]] | None = None,
) -> list[CheckOutcome]:
    """Validate the suite's table on the Spark Thrift server `server`; one outcome per check, in
    the suite's order, as `validation.run_suite` gives on DuckDB. `suite` is one of
    `all_suites(rule_vars, engine="spark")`; `files` (every loaded file by dataset) is read
    from `raw.load_files` when not given."""
    if suite.engine != _SQL.name:
        raise ValueError(
            f"suite {suite.name} is written for {suite.engine}, not Spark: take it from "
            'all_suites(rule_vars, engine="spark")'
        )
    context = gx_context(quality_dir)
    datasource = _datasource(context, server, suite.schema)
    try:
        if suite.scope and files is None:
            files = _loaded_files(datasource)
        # GX prints (not logs) a notice for every query of a query asset
        with contextlib.redirect_stdout(io.StringIO()):
            result = run_checkpoint(
                context, datasource, suite, 0, files or {}, run_name, literal=_SQL.literal
            )
    finally:
        # close the suite's Thrift sessions (GX's engines pool them: it fetches a result after
        # the connection went back to the pool). A Spark session keeps the file listing of each
        # table it has read: a session kept for the next suite or run would go on seeing a table
        # as it was before a build or load rewrote it through another session (measured: 11
        # rows where a new session saw 12).
        datasource.get_execution_engine().engine.dispose()
        datasource.get_engine().dispose()
    ((identifier, validation_result),) = result.run_results.items()
    return check_outcomes(
        suite,
        validation_result.results,
        docs_page_url(quality_dir, identifier),
        "every row (Spark, D83)",
    )
