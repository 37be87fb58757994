"""The dbt models as Dagster assets, in one lineage graph with the raw landing assets."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from ...dbt_runner import dbt_target_dir
from ...dbt_runner.dagster_bridge import InProcessDbtResource
from ..quality import scopes
from ..resources import RuleVarsResource, WarehouseResource
from .incremental import forget_state, full_refresh_reason
from .metadata import with_warehouse_metadata
from .project import dbt_project, ensure_manifest


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


def build_layer_models(layer: str):
    """One `dbt build` per layer, so a blocking check on a layer's assets (Great Expectations,
    orchestration/defs/quality) runs before the next layer and can stop it."""

    @dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project,
        dagster_dbt_translator=translator,
        select=f"path:models/{layer}",
        name=f"{layer}_models",
    )
    def _layer_models(
        context: AssetExecutionContext,
        dbt: InProcessDbtResource,
        rule_vars: RuleVarsResource,
        warehouse: WarehouseResource,
    ):
        resolved = rule_vars.resolved()
        # dbt unit tests pin hand-computed answers for the default vars: they run in the test
        # suite (tests/test_dbt_unit.py), not in production builds where vars may be overridden.
        # A test runs in the layer that builds the last of its models (`buildable`: its other
        # models are upstream of the layer): the order lines' reconciliation and the accrual's
        # close read intermediate models and marts, and run with the marts. (`cautious` left
        # them out of every layer: all their models are never in one.)
        args = [
            "build",
            "--exclude-resource-type",
            "unit_test",
            "--indirect-selection",
            "buildable",
        ]
        if resolved.overrides:
            args += ["--vars", resolved.overrides_json]
        if layer == "intermediate":
            reason = full_refresh_reason(Path(warehouse.path), resolved.values)
            if reason:
                context.log.info(f"full refresh of the incremental order models: {reason}")
                args.append("--full-refresh")
                with warehouse.connect() as con:  # every rebuilt row is checked again (D30)
                    scopes.forget(con, REBUILT_SCOPES)
                    forget_state(con)
        with warehouse.connect(read_only=True) as con:
            through = scopes.load_watermark(con)
        # dbt's target folder is the warehouse's own (`<warehouse>.dbt/`): its partial-parse
        # state names the warehouse file, so a daily run on the same warehouse parses only
        # what changed, and runs of other warehouses do not invalidate it
        events = dbt.build(
            args, warehouse.dbt_env(), context=context, target_path=dbt_target_dir(warehouse.path)
        ).stream()
        # row counts and the UI's summaries, read from the warehouse once dbt has released it
        yield from with_warehouse_metadata(context, events, warehouse)
        # every model built and every test passed: the next build tests only newer rows (D30)
        with warehouse.connect() as con:
            scopes.record_passed(con, f"dbt:{layer}", through, context.run.run_id)

    _layer_models.__doc__ = f"`dbt build` of models/{layer} with its dbt tests as asset checks."
    return _layer_models


layer_models = [build_layer_models(layer) for layer in LAYERS]
