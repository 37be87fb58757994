"""`serving/finance_copy`: after the marts and their checks, the read-only copy finance reads."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ...formatting import markdown_table
from ...serving_layout import SERVED_MARTS
from ..quality.checks import GUARDED_AFTER_BUILD
from ..resources import FinanceResource, RuleVarsResource, WarehouseResource
from .copy import build_serving_copy


@asset(
    key=["serving", "finance_copy"],
    group_name="serving",
    # every served mart, and every table a Great Expectations suite checks after the build: a
    # failing blocking check on any of them stops this asset, so the copy only ever holds marts
    # built from tables that passed (docs/finance.md, docs/quality.md)
    deps=sorted(
        {AssetKey(["marts", name]) for name in SERVED_MARTS}
        | {AssetKey(list(key)) for key in GUARDED_AFTER_BUILD},
        key=lambda key: key.path,
    ),
    description=(
        "The read-only copy of the marts that finance reads (`rewards explain`, `rewards export`, "
        "`rewards publish`): written beside the warehouse and swapped in atomically after the "
        "marts pass their checks, with the run's rule vars, code version and every input "
        "file's SHA-256. A failed or killed run leaves the previous copy in place."
    ),
)
def finance_copy(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    rule_vars: RuleVarsResource,
    finance: FinanceResource,
) -> MaterializeResult:
    config = {"memory_limit": warehouse.memory_limit, "threads": warehouse.threads}
    counts = build_serving_copy(
        Path(warehouse.path),
        Path(finance.serving_copy),
        dagster_run_id=context.run.run_id,
        rule_vars=rule_vars.resolved().values,
        duckdb_config=config,
        log=context.log.info,
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(finance.serving_copy),
            "dagster/row_count": counts["account_rewards"],
            "rows_by_table": MetadataValue.md(
                markdown_table(
                    ["table", "rows"],
                    [(f"marts.{name}", f"{rows:,}") for name, rows in counts.items()],
                )
            ),
        }
    )
