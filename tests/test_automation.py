"""The daily schedule and the landing-files sensor (orchestration/defs/automation.py): off by
default, the schedule only inside its window (D21), the sensor once per set of landing files."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from orchestration.defs.automation import (
    landing_files_sensor,
    rewards_daily,
    schedule_window,
)
from orchestration.defs.resources import LandingResource
from orchestration.rule_vars import rule_var_defaults

BEIJING = ZoneInfo("Asia/Shanghai")


def at_six(day: str | date) -> datetime:
    return datetime.combine(
        date.fromisoformat(str(day)), datetime.min.time(), tzinfo=BEIJING
    ).replace(hour=6)


def tick(moment: datetime):
    return rewards_daily(build_schedule_context(scheduled_execution_time=moment))


# ---- the code location ----------------------------------------------------------------------


def test_both_are_in_the_code_location_and_stopped_by_default():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("rewards_daily")
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert sensor.default_status == DefaultSensorStatus.STOPPED
    assert schedule.job_name == sensor.job_name == "rewards"
    assert defs.resolve_job_def("rewards").name == "rewards"
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert sensor.minimum_interval_seconds == 60


# ---- the schedule ---------------------------------------------------------------------------


def test_the_window_runs_from_campaign_start_to_the_day_after_the_settlement_cutoff():
    params = rule_var_defaults()
    assert schedule_window() == (
        date.fromisoformat(params["campaign_start"]),
        date.fromisoformat(params["settlement_cutoff"]) + timedelta(days=1),
    )
    assert schedule_window() == (date(2025, 11, 22), date(2026, 2, 1))


@pytest.mark.parametrize(
    "day", ["2025-11-22", "2025-12-31", "2026-01-15", "2026-01-31", "2026-02-01"]
)
def test_the_schedule_requests_a_run_inside_the_window(day):
    result = tick(at_six(day))
    assert isinstance(result, RunRequest), result
    assert result.tags["rewards/beijing_day"] == day


@pytest.mark.parametrize(
    "day, why",
    [
        ("2025-11-21", "before campaign_start 2025-11-22"),
        ("2025-06-01", "before campaign_start"),
        ("2026-02-02", "settlement_cutoff 2026-01-31"),
        ("2026-06-30", "settlement_cutoff"),
    ],
)
def test_the_schedule_skips_outside_the_window_saying_why(day, why):
    result = tick(at_six(day))
    assert isinstance(result, SkipReason), result
    assert why in result.skip_message


def test_the_schedule_counts_days_in_beijing_time():
    # 2025-11-21 22:30 UTC is 2025-11-22 06:30 in Beijing: the first day of the window
    assert isinstance(tick(datetime(2025, 11, 21, 22, 30, tzinfo=ZoneInfo("UTC"))), RunRequest)
    # 2026-02-01 16:30 UTC is 2026-02-02 00:30 in Beijing: past the window
    assert isinstance(tick(datetime(2026, 2, 1, 16, 30, tzinfo=ZoneInfo("UTC"))), SkipReason)


# ---- the sensor -----------------------------------------------------------------------------


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def landing(tmp_path):
    root = tmp_path / "landing"
    for dataset in ("account_snapshots", "enrollments", "videos", "orders"):
        (root / dataset).mkdir(parents=True)
    (root / "orders" / "orders_2025-11-22.csv").write_text("order_id\no1\n")
    (root / "videos" / "videos.parquet").write_bytes(b"PAR1")
    return root


def evaluate(instance, root, cursor):
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": LandingResource(path=str(root))}
    )
    return landing_files_sensor(context)


def requested(result) -> RunRequest:
    assert isinstance(result, SensorResult), result
    assert len(result.run_requests) == 1
    return result.run_requests[0]


def test_the_sensor_starts_one_run_for_new_files_and_none_when_nothing_changed(instance, landing):
    first = evaluate(instance, landing, None)
    run = requested(first)
    assert run.tags["rewards/landing_changes"] == "2 new, 0 changed, 0 removed"
    assert set(json.loads(first.cursor)) == {
        "orders/orders_2025-11-22.csv",
        "videos/videos.parquet",
    }
    # the same files again: nothing to do
    again = evaluate(instance, landing, first.cursor)
    assert isinstance(again, SkipReason), again
    assert "no new or changed landing files" in again.skip_message
    # the same files, evaluated without the cursor, ask for the same run: Dagster starts one
    assert requested(evaluate(instance, landing, None)).run_key == run.run_key


def test_the_sensor_starts_a_new_run_when_a_file_is_added_changed_or_removed(instance, landing):
    first = evaluate(instance, landing, None)
    keys = {requested(first).run_key}

    (landing / "orders" / "orders_2025-11-23.csv").write_text("order_id\no2\n")
    added = evaluate(instance, landing, first.cursor)
    assert requested(added).tags["rewards/landing_changes"] == "1 new, 0 changed, 0 removed"
    keys.add(requested(added).run_key)

    path = landing / "orders" / "orders_2025-11-22.csv"
    path.write_text("order_id\no1\no3\n")  # rewritten: another size
    changed = evaluate(instance, landing, added.cursor)
    assert requested(changed).tags["rewards/landing_changes"] == "0 new, 1 changed, 0 removed"
    keys.add(requested(changed).run_key)

    stat = path.stat()  # same size, touched: the loader reloads it too (D16)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = evaluate(instance, landing, changed.cursor)
    assert requested(touched).tags["rewards/landing_changes"] == "0 new, 1 changed, 0 removed"
    keys.add(requested(touched).run_key)

    (landing / "videos" / "videos.parquet").unlink()
    removed = evaluate(instance, landing, touched.cursor)
    assert requested(removed).tags["rewards/landing_changes"] == "0 new, 0 changed, 1 removed"
    keys.add(requested(removed).run_key)

    assert len(keys) == 5  # every listing its own run
    assert isinstance(evaluate(instance, landing, removed.cursor), SkipReason)


def test_the_sensor_ignores_files_the_loader_skips(instance, landing):
    first = evaluate(instance, landing, None)
    (landing / "orders" / "_orders_2025-11-23.csv.partial").write_text("being written")
    (landing / "orders" / ".DS_Store").write_text("")
    (landing / "orders" / "nested").mkdir()
    assert isinstance(evaluate(instance, landing, first.cursor), SkipReason)


def test_the_sensor_skips_an_empty_or_missing_landing(instance, tmp_path):
    result = evaluate(instance, tmp_path / "nowhere", None)
    assert isinstance(result, SkipReason) and "no landing files" in result.skip_message


def test_the_sensor_waits_while_a_rewards_run_holds_the_warehouse(instance, landing):
    instance.add_run(
        DagsterRun(job_name="rewards", run_id="running", status=DagsterRunStatus.STARTED)
    )
    waiting = evaluate(instance, landing, None)
    assert isinstance(waiting, SkipReason) and "in progress" in waiting.skip_message
    instance.report_run_canceled(instance.get_run_by_id("running"))  # the run ends
    assert requested(evaluate(instance, landing, None)).run_key


def test_the_sensor_never_opens_the_warehouse(instance, landing):
    """The sensor is handed the landing folder and nothing else: it has no warehouse to open,
    so it never takes the warehouse's single writer lock from a run."""
    assert landing_files_sensor.required_resource_keys == {"landing"}
    requested(evaluate(instance, landing, None))


def test_the_sensor_does_not_wait_for_a_cli_run_whose_process_was_killed(instance, landing):
    """A `rewards run` killed mid-run leaves its run "started" in the shared instance (D27);
    the sensor marks it failed instead of waiting for it for ever. A live one is waited for."""
    import os
    import subprocess
    import sys

    from orchestration.instance import cli_run_tags

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    tags = {**cli_run_tags("run"), "rewards/pid": gone.stdout.strip()}
    instance.add_run(
        DagsterRun(job_name="rewards", run_id="killed", tags=tags, status=DagsterRunStatus.STARTED)
    )
    assert requested(evaluate(instance, landing, None)).run_key
    assert instance.get_run_by_id("killed").status == DagsterRunStatus.FAILURE

    live = {**cli_run_tags("run"), "rewards/pid": str(os.getpid())}  # this test's process
    instance.add_run(
        DagsterRun(job_name="rewards", run_id="live", tags=live, status=DagsterRunStatus.STARTED)
    )
    waiting = evaluate(instance, landing, None)
    assert isinstance(waiting, SkipReason) and "in progress" in waiting.skip_message
    assert instance.get_run_by_id("live").status == DagsterRunStatus.STARTED
