"""The dbt models as Dagster assets, in one lineage graph with the raw landing assets.

One `@dbt_assets` holds every model and one `dbt build` makes them, with every dbt data test as
an asset check: a failing blocking test stops its model's dependents inside dbt, the gate a dbt
project keeps for itself. The Great Expectations suites of the warehouse stages run after the
build and block the serving copy (orchestration/defs/quality, docs/quality.md).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from ...dbt_runner import dbt_target_dir
from ..quality import scopes
from ..resources import EngineResource, RuleVarsResource, WarehouseResource
from .dbt_build import dbt_selection, on_warehouse, stream_build
from .incremental import forget_state, full_refresh_reason
from .metadata import with_warehouse_metadata
from .on_spark import build_on_spark
from .project import dbt_project, ensure_manifest, load_manifest


class RewardsTranslator(DagsterDbtTranslator):
    """Models are keyed `<layer>/<model>` and grouped by layer; sources keep `raw/<table>`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]  # staging / intermediate / marts
        return super().get_group_name(dbt_resource_props)


translator = RewardsTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # the `<dataset>_quarantine` sources are written by the same raw asset as `<dataset>`
        enable_duplicate_source_asset_keys=True,
    )
)


LAYERS = ("staging", "intermediate", "marts")
# the check scopes whose tables a full refresh of the order models rebuilds (D30)
REBUILT_SCOPES = ("dbt:intermediate", "dbt:marts", "gx:intermediate.", "gx:marts.")


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="dbt_models",
)
def dbt_models(
    context: AssetExecutionContext,
    rule_vars: RuleVarsResource,
    warehouse: WarehouseResource,
    engine: EngineResource,
):
    """`dbt build` of every model, with its dbt tests as asset checks."""
    resolved = rule_vars.resolved()
    manifest = load_manifest()
    # dbt unit tests pin hand-computed answers for the default vars: they run in the test suite
    # (tests/test_dbt_unit.py), not in production builds where vars may be overridden. A data
    # test runs when every model it reads is built (`buildable`): the order lines' reconciliation
    # and the accrual's close read intermediate models and marts.
    args = [
        "build",
        *dbt_selection(context, manifest, translator),
        "--exclude-resource-type",
        "unit_test",
        "--indirect-selection",
        "buildable",
        # the results stream to Dagster as events; nothing reads run_results.json or a rewritten
        # manifest.json of a warehouse build
        "--no-write-json",
    ]
    dbt_vars = resolved.overrides_json if resolved.overrides else None
    if engine.on_spark:
        yield from build_on_spark(context, args, manifest, translator, engine, warehouse, dbt_vars)
        return
    intermediate_selected = any(
        key.path[0] == "intermediate" for key in context.selected_asset_keys
    )
    reason = intermediate_selected and full_refresh_reason(Path(warehouse.path), resolved.values)
    if reason:
        context.log.info(f"full refresh of the incremental order models: {reason}")
        args.append("--full-refresh")
        with warehouse.connect() as con:  # every rebuilt row is checked again (D30)
            scopes.forget(con, REBUILT_SCOPES)
            forget_state(con)
    with warehouse.connect(read_only=True) as con:
        through = scopes.load_watermark(con)
    # dbt's target folder is the warehouse's own (`<warehouse>.dbt/`): its partial-parse state
    # names the warehouse file, so a daily run on the same warehouse parses only what changed,
    # and runs of other warehouses do not invalidate it
    target_path = dbt_target_dir(warehouse.path)
    run_dbt = on_warehouse(warehouse.dbt_env(), target_path, dbt_vars)
    events = stream_build(context, args, run_dbt, manifest, translator)
    # row counts and the UI's summaries, read from the warehouse once dbt has released it
    yield from with_warehouse_metadata(context, events, warehouse)
    # every selected model built and every test passed: the next build tests only newer rows
    # of the layers it built (D30)
    layers = {key.path[0] for key in context.selected_asset_keys} & set(LAYERS)
    with warehouse.connect() as con:
        for layer in sorted(layers):
            scopes.record_passed(con, f"dbt:{layer}", through, context.run.run_id)
