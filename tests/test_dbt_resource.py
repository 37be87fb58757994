"""The hooks into dagster-dbt's internals (orchestration/defs/warehouse/dbt_resource.py): if a
dagster-dbt upgrade renames or reshapes what the in-process dbt resource overrides, these tests
say what moved instead of a run failing somewhere inside dagster-dbt."""

from __future__ import annotations

import inspect

import dagster_dbt.core.resource as dagster_dbt_resource
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from orchestration.defs.warehouse.dbt_resource import InProcessDbtCliInvocation

SEE = "see orchestration/defs/warehouse/dbt_resource.py"


def test_the_overridden_resource_members_are_still_dagster_dbts():
    assert any("_cli_version" in vars(cls) for cls in DbtCliResource.__mro__), (
        f"DbtCliResource._cli_version is gone: {SEE}")
    initialize = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
    assert initialize is not None, f"DbtCliResource._initialize_dbt_core_adapter is gone: {SEE}"
    assert list(inspect.signature(initialize).parameters) == ["self", "args"], (
        f"DbtCliResource._initialize_dbt_core_adapter changed its parameters: {SEE}")
    # dagster-dbt's cli() still asks these for the version and the adapter, and accepts None
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source, (
        f"DbtCliResource.cli no longer reads the dbt version through _cli_version: {SEE}")
    assert "self._initialize_dbt_core_adapter(" in source, (
        f"DbtCliResource.cli no longer builds its adapter through the hooked method: {SEE}")
    assert "adapter: BaseAdapter | None" in source, (
        f"DbtCliResource.cli no longer allows running without an adapter: {SEE}")


def test_the_swapped_invocation_class_is_still_looked_up_from_the_module():
    assert dagster_dbt_resource.DbtCliInvocation is DbtCliInvocation, (
        f"dagster_dbt.core.resource no longer names DbtCliInvocation: {SEE}")
    assert "DbtCliInvocation.run(" in inspect.getsource(DbtCliResource.cli), (
        f"DbtCliResource.cli no longer starts dbt through DbtCliInvocation.run: {SEE}")
    theirs = list(inspect.signature(DbtCliInvocation.run).parameters)
    ours = list(inspect.signature(InProcessDbtCliInvocation.run).parameters)
    assert theirs == ours, f"DbtCliInvocation.run{theirs} changed (ours: {ours}): {SEE}"

