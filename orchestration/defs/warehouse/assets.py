"""The dbt models as Dagster assets, in one lineage graph with the raw landing assets."""


from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config, Failure
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from pydantic import Field

from .project import UnknownVarError, dbt_project, ensure_manifest, parse_var_overrides, vars_json


class RuleVarsConfig(Config):
    """Per-run overrides of the rulebook parameters (dbt vars), e.g. {"reward_rate": "0.02"}."""

    vars: dict[str, str] = Field(
        default_factory=dict,
        description="Rule parameters to override for this run; keys as in dbt_project.yml vars.",
    )


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


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, config: RuleVarsConfig):
    """`dbt build`: staging -> intermediate -> marts, with every dbt test as an asset check."""
    try:
        overrides = parse_var_overrides(config.vars)
    except UnknownVarError as exc:
        raise Failure(description=str(exc)) from exc
    # dbt unit tests pin hand-computed answers for the default vars: they run in the test suite
    # (tests/test_dbt_unit.py), not in production builds where vars may be overridden.
    args = ["build", "--exclude-resource-type", "unit_test"]
    if overrides:
        args += ["--vars", vars_json(overrides)]
    # Reuse the project target folder so dbt can parse partially (seconds saved per run).
    yield from dbt.cli(args, context=context, target_path=dbt_project.target_path).stream()
