"""The dbt step on the Spark engine (REWARDS_ENGINE=spark, D89): the same `dbt build` of the same
selection, through the profile's `spark` target on the run's Thrift server, its results streamed
as the same Dagster events; then the marts copied into the warehouse file (spark/mirror.py), from
which the summary and finance read them as on DuckDB.

What DuckDB's step adds and Spark's does not: the incremental order models and their full-refresh
decision (on Spark every model is a full table, D16 does not apply), and the recorded check
scopes (D30; on Spark every check reads every row, D83).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, MaterializeResult
from dagster_dbt import DagsterDbtTranslator

from ...spark.build import invoke_on_spark
from ...spark.mirror import mirror_marts
from ...spark.thrift import thrift_connection
from ..resources import EngineResource, WarehouseResource
from .dbt_build import stream_build


def build_on_spark(
    context: AssetExecutionContext,
    args: Sequence[str],
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    engine: EngineResource,
    warehouse: WarehouseResource,
    dbt_vars: str | None,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    endpoint, _ = engine.spark()
    spark_dir = engine.spark_settings().spark_dir
    vars_args = ["--vars", dbt_vars] if dbt_vars else []

    def run_dbt(dbt_args: list[str], callbacks: list) -> Any:
        return invoke_on_spark([*dbt_args, *vars_args], spark_dir, endpoint, callbacks)

    built: list[Any] = []
    error: Exception | None = None
    try:
        for event in stream_build(context, args, run_dbt, manifest, translator):
            built.append(event)
    except Exception as exc:  # what dbt did build is still reported, then its error raised
        error = exc
    models = [e for e in built if isinstance(e, MaterializeResult)]
    rows: dict = {}
    if models:
        # what dbt built is the marts' state now, passed or not: the warehouse file follows
        try:
            counts = mirror_marts(endpoint, warehouse.connect)
            rows = _row_counts(endpoint, models, counts)
        except Exception as exc:
            if error is None:
                raise
            context.log.warning(f"marts not copied into the warehouse file: {exc}")
        else:
            context.log.info(
                "marts copied into the warehouse file: "
                + ", ".join(f"{table} {n:,} rows" for table, n in counts.items())
            )
    for event in built:
        if isinstance(event, MaterializeResult) and event.asset_key in rows:
            event = MaterializeResult(
                asset_key=event.asset_key,
                metadata={**(event.metadata or {}), "dagster/row_count": rows[event.asset_key]},
            )
        yield event
    if error is not None:
        raise error


def _row_counts(endpoint, events: list[MaterializeResult], copied: dict[str, int]) -> dict:
    """Rows of each built model: a mart's as copied into the warehouse file, any other's
    counted on Spark."""
    out = {}
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        for event in events:
            table = ".".join(event.asset_key.path)
            out[event.asset_key] = (
                copied[table]
                if table in copied
                else int(sql.query(f"select count(*) from {table}")[0][0])
            )
    return out
