"""The SQL of the suites that differs between engines, one class per engine (D82).

The suites are declared once (raw, staging, intermediate, marts); the few expressions that DuckDB
and Spark SQL spell differently come from here, the way the dbt project dispatches a macro per
adapter. Everything else in the suites' SQL is the same text on both engines, and GX compiles its
own expectations (`expect_column_values_to_be_in_set`, ...) for each engine itself.
"""

from __future__ import annotations

from orchestration.contract import SPARK_STORAGE_TYPE, STORAGE_TYPE
from orchestration.formatting import lit


class DuckDBSql:
    name = "duckdb"

    def literal(self, value: str) -> str:
        return lit(value)

    def local_date(self, ts: str, timezone: str) -> str:
        """R1: the calendar day in `timezone` of the instant `ts`."""
        return f"cast(timezone({lit(timezone)}, {ts}) as date)"

    def type_name(self, kind: str) -> str:
        """A contract kind's storage type as DuckDB's `typeof` spells it."""
        storage = STORAGE_TYPE[kind]
        return {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(storage, storage)

    def column_types(self, names: list[str], expected: str) -> str:
        """The contract columns of one row of `{batch}` whose type is not the expected one
        (`expected`: a VALUES list of (column_name, expected_type))."""
        return (
            f"select column_name, expected_type, actual_type from ("
            f"select unnest([{', '.join(lit(n) for n in names)}]) "
            f"as column_name, "
            f"unnest([{', '.join(f'typeof({n})' for n in names)}]) as actual_type "
            f"from (select * from {{batch}} limit 1)) as actual "
            f"inner join (values {expected}) as contract(column_name, expected_type) "
            f"using (column_name) where actual_type <> expected_type"
        )


class SparkSql:
    name = "spark"

    # The Spark types the Spark loader gives the contract's kinds (docs/spark.md)
    _TYPES = SPARK_STORAGE_TYPE

    def literal(self, value: str) -> str:
        # Spark's string literals take backslash escapes; a doubled quote is two literals
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def local_date(self, ts: str, timezone: str) -> str:
        """R1: the instant's wall clock in the session zone (`timestamp_ntz`) moved into
        `timezone`, then its date: the same answer whatever the session time zone is, and not
        the models' own expression (the `local_date` macro), so the check is independent."""
        return (
            f"cast(convert_timezone(current_timezone(), {self.literal(timezone)}, "
            f"cast({ts} as timestamp_ntz)) as date)"
        )

    def type_name(self, kind: str) -> str:
        """A contract kind's type as Spark's `typeof` spells it."""
        return self._TYPES[kind]

    def column_types(self, names: list[str], expected: str) -> str:
        # stack() turns one row into a row per column, as DuckDB's unnest of two lists
        pairs = ", ".join(f"{self.literal(n)}, typeof({n})" for n in names)
        return (
            f"select column_name, expected_type, actual_type from ("
            f"select stack({len(names)}, {pairs}) as (column_name, actual_type) "
            f"from (select * from {{batch}} limit 1)) as actual "
            f"inner join (values {expected}) as contract(column_name, expected_type) "
            f"using (column_name) where actual_type <> expected_type"
        )


ENGINES = {"duckdb": DuckDBSql(), "spark": SparkSql()}
Sql = DuckDBSql | SparkSql


def dialect(engine: str) -> Sql:
    try:
        return ENGINES[engine]
    except KeyError:
        raise ValueError(
            f"no quality suites for engine {engine!r}; one of {', '.join(ENGINES)}"
        ) from None
