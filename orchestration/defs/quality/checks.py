"""The suites of `expectations/` as Dagster asset checks: one multi-check per guarded table.

Each check of a suite is its own Dagster asset check, named as in the suite. Blocking checks
fail with ERROR severity and Dagster does not build what depends on the table in that run; the
others fail with WARN and the run goes on. GX's counts and sample rows are the check metadata.
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
from ..resources import QualityResource, RuleVarsResource, WarehouseResource
from .validation import run_suite


@lru_cache(maxsize=4)
def suites_for(rule_vars: RuleVars) -> dict[str, Suite]:
    """Every suite with these rule vars, by name: built once per run's vars, not per check step."""
    return {suite.name: suite for suite in all_suites(rule_vars.values)}


def _spec(suite: Suite, check) -> AssetCheckSpec:
    severity = "blocking" if check.blocking else "warn"
    return AssetCheckSpec(
        name=check.name,
        asset=AssetKey(list(suite.asset_key)),
        blocking=check.blocking,
        description=f"[{severity}; {', '.join(check.rules)}] {check.why}",
    )


def build_suite_checks(suite: Suite) -> AssetChecksDefinition:
    @multi_asset_check(
        specs=[_spec(suite, c) for c in suite.checks],
        name=f"gx_{suite.schema}_{suite.table}",
        description=f"Great Expectations suite {suite.name} ({suite.stage} stage).",
    )
    def _validate(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        rule_vars: RuleVarsResource,
        quality: QualityResource,
    ):
        # the same suite, with this run's rule parameters
        current = suites_for(rule_vars.resolved())[suite.name]
        outcomes = run_suite(
            current,
            warehouse,
            Path(quality.path),
            update_data_docs=quality.data_docs == "each_check",
            run_name=context.run.run_id,
        )
        failed = [o.check.name for o in outcomes if not o.passed]
        context.log.info(
            f"{suite.name}: {len(outcomes) - len(failed)}/{len(outcomes)} checks "
            f"passed" + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        for outcome in outcomes:
            yield AssetCheckResult(
                asset_key=AssetKey(list(suite.asset_key)),
                check_name=outcome.check.name,
                passed=outcome.passed,
                severity=(
                    AssetCheckSeverity.ERROR if outcome.check.blocking else AssetCheckSeverity.WARN
                ),
                metadata=outcome.metadata,
            )

    return _validate


# Names and severities do not depend on the parameters: build the definitions from the defaults.
quality_checks = [build_suite_checks(suite) for suite in all_suites(rule_var_defaults())]
