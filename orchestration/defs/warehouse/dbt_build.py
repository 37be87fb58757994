"""`dbt build` in this process, its results streamed as Dagster events.

dbt-core's documented programmatic API runs the build: `dbtRunner(callbacks=[...]).invoke(...)`
in a worker thread (dbt_runner.invoke, with the profile written for the warehouse). Each
structured event dbt hands the callback goes onto a queue; the step reads it and turns each
node's result into a Dagster event with public APIs only:

* a model's `LogModelResult` -> `MaterializeResult` for the asset key the project's
  `DagsterDbtTranslator` gives the model (`get_asset_key`);
* a test's `LogTestResult` -> `AssetCheckResult` for the check whose spec dagster-dbt's
  `@dbt_assets` made for that test (each `AssetCheckSpec` carries the test's unique id in its
  metadata, `dagster_dbt/unique_id`); a test with no spec (a unit test) is left out.

A failing blocking test stops its model's dependents inside dbt (`dbt build`'s own gate); the
step fails after the stream when dbt reports failure, naming what failed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
)
from dagster_dbt import DagsterDbtTranslator

from ...dbt_runner import invoke_on_warehouse

UNIQUE_ID_KEY = "dagster_dbt/unique_id"
_RESULT_EVENTS = {"LogModelResult", "LogTestResult"}
_PASSED = {"pass", "success"}
_DONE = object()


def check_keys_by_test(context: AssetExecutionContext) -> dict[str, AssetCheckKey]:
    """The Dagster check key of every dbt test this step may report, by the test's unique id."""
    keys = {}
    for spec in context.assets_def.check_specs:
        unique_id = (spec.metadata or {}).get(UNIQUE_ID_KEY)
        if unique_id:
            keys[unique_id] = spec.key
    return keys


def dbt_selection(
    context: AssetExecutionContext, manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> list[str]:
    """`--select` for what this step was asked to materialize: nothing when it is every model
    (the whole project), else the selected models by name and the tests of the checks selected
    without their model."""
    all_keys = set(context.assets_def.keys)
    selected = set(context.selected_asset_keys)
    all_checks = set(context.assets_def.check_keys)
    selected_checks = set(context.selected_asset_check_keys)
    if selected == all_keys and selected_checks == all_checks:
        return []
    names = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and translator.get_asset_key(node) in selected
    ]
    tests = {key: unique_id for unique_id, key in check_keys_by_test(context).items()}
    names += [
        manifest["nodes"][tests[key]]["name"]
        for key in sorted(selected_checks, key=str)
        if key.asset_key not in selected and key in tests
    ]
    return ["--select", *sorted(names)] if names else ["--select", "none:none"]


DbtRun = Callable[[list[str], list[Callable[[Any], None]]], Any]  # (args, callbacks) -> result


def on_warehouse(
    profile_values: Mapping[str, str], target_path: Path, dbt_vars: str | None = None
) -> DbtRun:
    """dbt on the DuckDB warehouse of `profile_values` (dbt_runner.warehouse_env), with
    `--vars dbt_vars`."""

    def run(args: list[str], callbacks: list[Callable[[Any], None]]) -> Any:
        return invoke_on_warehouse(
            args, profile_values, target_path, callbacks=callbacks, dbt_vars=dbt_vars
        )

    return run


def _events(run_dbt: DbtRun, args: Sequence[str], out: queue.Queue) -> threading.Thread:
    def on_event(msg: Any) -> None:
        # dbt hands every event of the build to its callbacks (an `EventMsg`: `info` and
        # `data`), its debug lines included; only the nodes' results are read
        if msg.info.name in _RESULT_EVENTS:
            node = msg.data.node_info
            out.put((msg.info.name, node.unique_id, str(node.node_status)))

    def run() -> None:
        try:
            out.put((_DONE, run_dbt([*args, "--quiet"], [on_event]), None))
        except BaseException as exc:  # handed to the step, never lost in a thread
            out.put((_DONE, None, exc))

    thread = threading.Thread(target=run, name="dbt", daemon=True)
    thread.start()
    return thread


def stream_build(
    context: AssetExecutionContext,
    args: Sequence[str],
    run_dbt: DbtRun,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Run `dbt ARGS` through `run_dbt` (`on_warehouse`, or the Spark target's) and yield its
    models' materializations and its tests' check results as they finish; raise `Failure`
    naming the failed nodes when dbt does not succeed."""
    checks = check_keys_by_test(context)
    selected_checks = set(context.selected_asset_check_keys)
    selected_assets = set(context.selected_asset_keys)
    out: queue.Queue = queue.Queue()
    thread = _events(run_dbt, args, out)
    failed: list[str] = []
    while True:
        item = out.get()
        if item[0] is _DONE:
            _, result, exc = item
            break
        name, unique_id, status = item
        if status not in _PASSED:
            failed.append(f"{unique_id} ({status})")
        if name == "LogModelResult" and unique_id in manifest["nodes"]:
            key = translator.get_asset_key(manifest["nodes"][unique_id])
            if key in selected_assets and status in _PASSED:
                yield MaterializeResult(asset_key=key, metadata={"dbt/status": status})
        elif name == "LogTestResult" and unique_id in checks:
            key = checks[unique_id]
            if key in selected_checks:
                yield AssetCheckResult(
                    asset_key=key.asset_key,
                    check_name=key.name,
                    passed=status in _PASSED,
                    severity=(
                        AssetCheckSeverity.WARN if status == "warn" else AssetCheckSeverity.ERROR
                    ),
                    metadata={"dbt/status": status},
                )
    thread.join()
    if exc is not None:
        raise Failure(description=f"dbt build failed: {exc}") from exc
    if result is not None and result.exception is not None:
        raise Failure(description=f"dbt build failed: {result.exception}")
    if result is None or not result.success:
        raise Failure(description="dbt build failed: " + (", ".join(failed) or "see dbt.log"))
