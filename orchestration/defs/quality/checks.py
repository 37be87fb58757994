"""The suites of `expectations/` as Dagster asset checks: one check step per stage.

Every check of every suite is its own Dagster asset check, on the table its suite guards, named
as in the suite; the checks of one stage (raw, staging, intermediate, marts) are one
multi-asset check, so a run makes four check steps, whatever the number of suites. The raw
stage runs before dbt and its blocking checks stop the build; the other stages run after the
build and their blocking checks stop the serving copy (docs/quality.md). Blocking checks fail
with ERROR severity; the others fail with WARN and the run goes on. GX's counts and sample rows
are the check metadata.
"""

from functools import lru_cache
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    multi_asset_check,
)

from expectations import Suite, all_suites

from ...rule_vars import RuleVars, rule_var_defaults
from ..resources import EngineResource, QualityResource, RuleVarsResource, WarehouseResource
from .spark_validation import ThriftServer, run_suite_on_spark
from .validation import run_suite

STAGES = ("raw", "staging", "intermediate", "marts")


@lru_cache(maxsize=4)
def suites_for(rule_vars: RuleVars, engine: str = "duckdb") -> dict[str, Suite]:
    """Every suite with these rule vars in `engine`'s SQL, by name: built once per run's vars,
    not per check step."""
    return {suite.name: suite for suite in all_suites(rule_vars.values, engine=engine)}


def _spec(suite: Suite, check) -> AssetCheckSpec:
    severity = "blocking" if check.blocking else "warn"
    return AssetCheckSpec(
        name=check.name,
        asset=AssetKey(list(suite.asset_key)),
        blocking=check.blocking,
        description=f"[{severity}; {', '.join(check.rules)}] {check.why}",
    )


def build_stage_checks(stage: str, suites: list[Suite]) -> AssetChecksDefinition:
    names = [suite.name for suite in suites]

    @multi_asset_check(
        specs=[_spec(suite, c) for suite in suites for c in suite.checks],
        name=f"gx_{stage}",
        description=(
            f"Great Expectations, {stage} stage: the suites {', '.join(names)}, one after another."
        ),
        # the UI can run the checks of one table alone
        can_subset=True,
    )
    def _validate(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        rule_vars: RuleVarsResource,
        quality: QualityResource,
        engine: EngineResource,
    ):
        # the same suites, with this run's vars, in the SQL of the engine that built the tables
        current = suites_for(rule_vars.resolved(), engine.name)
        selected = set(context.selected_asset_check_keys)
        for name in names:
            suite = current[name]
            key = AssetKey(list(suite.asset_key))
            if not any(
                k.asset_key == key and k.name == c.name for c in suite.checks for k in selected
            ):
                continue
            if engine.on_spark:  # through the Thrift server (D81-D84)
                endpoint, _ = engine.spark()
                outcomes = run_suite_on_spark(
                    suite,
                    ThriftServer(endpoint.host, endpoint.port),
                    Path(quality.path),
                    run_name=context.run.run_id,
                )
            else:
                outcomes = run_suite(
                    suite, warehouse, Path(quality.path), run_name=context.run.run_id
                )
            failed = [o.check.name for o in outcomes if not o.passed]
            context.log.info(
                f"{suite.name}: {len(outcomes) - len(failed)}/{len(outcomes)} checks "
                f"passed" + (f"; failed: {', '.join(failed)}" if failed else "")
            )
            for outcome in outcomes:
                yield AssetCheckResult(
                    asset_key=key,
                    check_name=outcome.check.name,
                    passed=outcome.passed,
                    severity=(
                        AssetCheckSeverity.ERROR
                        if outcome.check.blocking
                        else AssetCheckSeverity.WARN
                    ),
                    metadata=outcome.metadata,
                )

    return _validate


def _by_stage(suites: list[Suite]) -> dict[str, list[Suite]]:
    return {stage: [s for s in suites if s.stage == stage] for stage in STAGES}


# Names and severities do not depend on the parameters: build the definitions from the defaults.
quality_checks = [
    build_stage_checks(stage, suites)
    for stage, suites in _by_stage(all_suites(rule_var_defaults())).items()
    if suites
]
# the tables the suites after the build guard: the serving copy waits for their checks
GUARDED_AFTER_BUILD = sorted(
    {s.asset_key for s in all_suites(rule_var_defaults()) if s.stage != "raw"}
)
