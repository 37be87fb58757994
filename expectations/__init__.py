"""The data-quality suites, one module per stage: raw, staging, intermediate, marts.

Each suite guards one warehouse table (one Dagster asset) and is a list of named checks. A check
is one or more Great Expectations 1.x expectations, written as GX's own configuration (`type` +
`kwargs`, exactly what a GX suite JSON holds), plus the decision a reviewer needs:

- `blocking`: True when a failure would change a reward (a broken invariant, rows lost between
  stages, a contract breach that got past the loader). It runs as a blocking Dagster asset check
  with ERROR severity: the next stage is not built. False for row-level contract breaches the
  loader already quarantined (R12): a WARN check that reports the counts and lets the run go on.
- `rules`: the rulebook ids (R1..R12) the check defends; `why`: one sentence for the UI.

A suite of a big table has a `scope`: it validates the rows of the raw loads after the one through
which it last passed, not the whole table again (docs/decisions.md, D30).

Suites are functions of the rule parameters (the dbt vars of the run), so a check reads
`reward_cap_points` from the same place the models do and never repeats a literal.
`orchestration/defs/quality` turns them into Dagster asset checks and runs them with GX inside
DuckDB, or on Spark through a Thrift server (the same checks in Spark SQL: `dialects.py`, D82).
Nothing here imports Great Expectations: the code location loads fast, GX is imported
only when a check runs. The catalogue with every check and its severity is docs/quality.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    blocking: bool
    rules: tuple[str, ...]
    why: str
    expectations: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Suite:
    stage: str
    schema: str
    table: str
    checks: tuple[Check, ...] = field(default=())
    # The Dagster asset whose checks these are, when the table is not an asset of its own
    # (a raw dataset's quarantine is written by the raw asset).
    guards: tuple[str, str] | None = None
    # The rows a run validates, for the big tables: a SQL condition on the table's rows in which
    # `{through}` is the raw load through which the suite last passed (D30). The suite then
    # validates only the rows of later loads; None: every row, every run. Checks may use
    # `{through}` in their SQL too, and `{files:<dataset>}`: the list of that dataset's files
    # loaded after it, as SQL literals (`loaded_after`).
    scope: str | None = None
    # The SQL dialect its checks are written in (expectations/dialects.py)
    engine: str = "duckdb"

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def asset_key(self) -> tuple[str, str]:
        return self.guards or (self.schema, self.table)


def expect(type_: str, **kwargs: Any) -> dict[str, Any]:
    """One GX expectation as configuration, e.g. expect("expect_column_values_to_be_unique",
    column="video_id")."""
    return {"type": type_, "kwargs": kwargs}


def no_rows(query: str, description: str) -> dict[str, Any]:
    """GX's UnexpectedRowsExpectation: `query` (SQL, `{batch}` is the guarded table) must
    return no row; the rows it does return are the failures shown in the UI and Data Docs."""
    return expect(
        "unexpected_rows_expectation", unexpected_rows_query=query, description=description
    )


def check(
    name: str,
    *,
    blocking: bool,
    rules: tuple[str, ...] | str,
    why: str,
    expectations: list[dict[str, Any]],
) -> Check:
    rules = (rules,) if isinstance(rules, str) else rules
    return Check(name, blocking, tuple(rules), why, tuple(expectations))


def all_suites(rule_vars: Mapping[str, Any], engine: str = "duckdb") -> list[Suite]:
    """Every suite of every stage, in pipeline order, in the SQL of `engine` (`duckdb` or
    `spark`: the same checks, the few engine-specific expressions from `dialects.py`)."""
    from . import intermediate, marts, raw, staging
    from .dialects import dialect

    sql = dialect(engine)
    suites = [
        *raw.suites(rule_vars, sql),
        *staging.suites(rule_vars, sql),
        *intermediate.suites(rule_vars, sql),
        *marts.suites(rule_vars, sql),
    ]
    return [replace(suite, engine=sql.name) for suite in suites]


def loaded_after(dataset: str, file_column: str) -> str:
    """Scope: the rows of `dataset`'s files loaded after the suite last passed.

    The files are written into the SQL as literals when the suite runs (`{files:<dataset>}`),
    not read by a subquery: DuckDB would evaluate a check's other filters on every row of the
    table before joining them to the (often empty) list of new files -- 27 s of a run with
    nothing new at 100M orders, against ~0.2 s per query for a literal list (D30)."""
    return f"{file_column} in {{files:{dataset}}}"


def reloaded_after(*datasets: str) -> str:
    """Scope of a table rebuilt whole from datasets reloaded whole: every row when one of them
    was loaded after the suite last passed, none otherwise."""
    names = ", ".join(f"'{d}'" for d in datasets)
    return (
        f"(select coalesce(max(load_id), 0) from raw.load_files "
        f"where dataset in ({names})) > {{through}}"
    )
