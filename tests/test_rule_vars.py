"""Rule vars are validated when a run starts (issue 14): one line naming the var and what it
accepts, from `rewards run`, `rewards simulate` and the UI's `rule_vars` resource alike."""

from __future__ import annotations

import pytest
from dagster import Definitions, asset, materialize

from orchestration.defs.resources import RuleVarsResource
from orchestration.rule_vars import (
    InvalidVarError,
    UnknownVarError,
    parse_var_overrides,
    rule_var_defaults,
    validate_rule_vars,
)

BAD = [
    # R11
    ({"reward_cap_points": "-1"}, "reward_cap_points=-1: must be an integer ≥ 0"),
    ({"reward_cap_points": "1_000"}, "reward_cap_points=1_000: must be an integer ≥ 0"),
    ({"reward_cap_points": "+5"}, "reward_cap_points=+5: must be an integer ≥ 0"),
    ({"reward_cap_points": "1.5"}, "reward_cap_points=1.5: must be an integer ≥ 0"),
    ({"reward_cap_points": "true"}, "reward_cap_points=true: must be an integer ≥ 0"),
    ({"reward_rate": "0"}, "reward_rate=0: must be a decimal in (0, 1]"),
    ({"reward_rate": "1.5"}, "reward_rate=1.5: must be a decimal in (0, 1]"),
    ({"reward_rate": "-0.01"}, "reward_rate=-0.01: must be a decimal in (0, 1]"),
    ({"reward_rate": "1e-2"}, "reward_rate=1e-2: must be a decimal in (0, 1]"),
    # decimal(18, 6) in SQL: a seventh place would be rounded away
    ({"reward_rate": "0.0150001"}, "with at most 6 decimal places"),
    # R10
    ({"min_followers": "-3"}, "min_followers=-3: must be an integer ≥ 0"),
    # R1
    ({"timezone": "Mars/Olympus_Mons"}, "timezone=Mars/Olympus_Mons: must be an IANA time zone"),
    ({"timezone": "asia/shanghai"}, "timezone=asia/shanghai: must be an IANA time zone"),
    # R3, R5
    ({"campaign_start": "2025-13-01"}, "campaign_start=2025-13-01: must be a date YYYY-MM-DD"),
    ({"campaign_end": "2025/12/31"}, "campaign_end=2025/12/31: must be a date YYYY-MM-DD"),
    (
        {"baseline_end": "2025-11-22"},
        "the dates must satisfy baseline_start ≤ baseline_end < campaign_start ≤ campaign_end ≤ "
        "settlement_cutoff; got baseline_start=2025-08-01, baseline_end=2025-11-22",
    ),
    ({"campaign_end": "2025-11-21"}, "the dates must satisfy"),
    ({"settlement_cutoff": "2025-12-30"}, "the dates must satisfy"),
    ({"baseline_start": "2025-11-01"}, "the dates must satisfy"),
    # R6
    ({"quota_tiers": "[[1000, 2], [0, 1]]"}, "quota_tiers=[[1000, 2], [0, 1]]: must be a list"),
    ({"quota_tiers": "[[0, 1], [0, 2]]"}, "the minimums ≥ 0 and ascending"),
    ({"quota_tiers": "[[0, 0]]"}, "the quotas ≥ 1"),
    ({"quota_tiers": "[[-1, 1]]"}, "quota_tiers=[[-1, 1]]: must be a list"),
    ({"quota_tiers": "[[0, 1.5]]"}, "quota_tiers=[[0, 1.5]]: must be a list"),
    ({"quota_tiers": "[]"}, "quota_tiers=[]: must be a list"),
    ({"quota_tiers": "[[0, 1"}, "quota_tiers=[[0, 1: must be a list"),
]


@pytest.mark.parametrize("overrides, message", BAD)
def test_a_bad_rule_var_is_refused_in_one_line_naming_it(overrides, message):
    with pytest.raises(InvalidVarError) as refused:
        parse_var_overrides(overrides)
    text = str(refused.value)
    assert message in text and "\n" not in text, text


def test_every_bad_var_is_named_at_once():
    """In dbt_project.yml's order, on one line."""
    with pytest.raises(InvalidVarError) as refused:
        parse_var_overrides({"reward_cap_points": "-1", "timezone": "Nowhere"})
    assert str(refused.value) == (
        "timezone=Nowhere: must be an IANA time zone name, e.g. Asia/Shanghai; "
        "reward_cap_points=-1: must be an integer ≥ 0"
    )


def test_good_overrides_keep_their_exact_values():
    assert parse_var_overrides(
        {
            "reward_cap_points": "0",
            "reward_rate": "1",
            "min_followers": "500",
            "timezone": "UTC",
            "campaign_start": "2025-11-23",
            "campaign_end": "2025-11-23",
            "settlement_cutoff": "2025-11-23",
            "quota_tiers": "[[100, 3], [5000, 4]]",
        }
    ) == {
        "reward_cap_points": 0,
        "reward_rate": "1",
        "min_followers": 500,
        "timezone": "UTC",
        "campaign_start": "2025-11-23",
        "campaign_end": "2025-11-23",
        "settlement_cutoff": "2025-11-23",
        "quota_tiers": [[100, 3], [5000, 4]],
    }
    # the rate stays the string typed, never a binary float (R11)
    assert parse_var_overrides({"reward_rate": "0.015"}) == {"reward_rate": "0.015"}


def test_the_declared_defaults_are_valid():
    validate_rule_vars(rule_var_defaults())


def test_dates_are_checked_against_the_base_they_change():
    """`rewards simulate` changes the published run's vars: a date is judged with those."""
    published = {
        **rule_var_defaults(),
        "campaign_start": "2025-12-01",
        "campaign_end": "2025-12-20",
    }
    assert parse_var_overrides({"campaign_end": "2025-12-10"}, base=published) == {
        "campaign_end": "2025-12-10"
    }
    with pytest.raises(InvalidVarError, match="the dates must satisfy"):
        parse_var_overrides({"campaign_end": "2025-11-30"}, base=published)
    # on its own (before the published vars are read) only the value itself is judged
    assert parse_var_overrides({"campaign_end": "2025-11-30"}, together=False) == {
        "campaign_end": "2025-11-30"
    }


def test_an_unknown_var_is_named():
    with pytest.raises(UnknownVarError, match="unknown var"):
        parse_var_overrides({"reward_rat": "0.02"})


def test_the_ui_step_fails_with_the_same_line():
    """The launchpad's `rule_vars` resource: the step that reads it fails with the CLI's line."""

    @asset
    def reads_rule_vars(rule_vars: RuleVarsResource) -> None:
        rule_vars.resolved()

    defs = Definitions(
        assets=[reads_rule_vars],
        resources={"rule_vars": RuleVarsResource(overrides={"reward_cap_points": "-1"})},
    )
    result = materialize(defs.assets, resources=defs.resources, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.user_failure_data.description == (
        "reward_cap_points=-1: must be an integer ≥ 0"
    )
