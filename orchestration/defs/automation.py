"""When the `rewards` job runs by itself: a daily schedule and a landing-files sensor.

Both are off by default (turn them on in the UI, Automation, or `dagster schedule start` /
`dagster sensor start`). Both target the job by name, so this module does not import the
code location that wires them in.

* `rewards_daily`: every day at 06:00 Beijing time (R1: every day boundary is Beijing's), from
  `campaign_start` through the day after `settlement_cutoff` (docs/decisions.md, D21): window
  orders keep settling and being refunded until the cutoff (R3), and the 06:00 run on the day
  after it is the first to see the whole cutoff day. Outside those days it skips, saying why.
* `landing_files_sensor`: starts the job when a landing file appears, changes or disappears.
  It only lists the landing folders (never opens the DuckDB warehouse, whose single writer lock
  a run may hold); its cursor is the listing (file -> size, mtime), and the run key is a digest
  of it, so one set of files never starts two runs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import (
    DagsterInvariantViolationError,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from ..contract import DATASETS
from ..instance import TRIGGER_TAG, fail_abandoned_cli_runs
from ..rule_vars import rule_var_defaults
from .resources import LandingResource

JOB_NAME = "rewards"  # orchestration/definitions.py
SCHEDULE_TIMEZONE = str(rule_var_defaults()["timezone"])  # R1: the dbt var, Beijing

# ---------------------------------------------------------------------------------------------
# the daily schedule


def schedule_window(params: dict | None = None) -> tuple[date, date]:
    """The first and last Beijing day on which the daily run is worth doing (D21)."""
    params = params or rule_var_defaults()
    first = date.fromisoformat(str(params["campaign_start"]))
    last = date.fromisoformat(str(params["settlement_cutoff"])) + timedelta(days=1)
    return first, last


def _beijing_day(moment: datetime) -> date:
    zone = ZoneInfo(SCHEDULE_TIMEZONE)
    if moment.tzinfo is None:  # a naive time is read as Beijing wall-clock time
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone).date()


@schedule(
    name="rewards_daily",
    job_name=JOB_NAME,
    cron_schedule="0 6 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Every day at 06:00 Beijing time, from campaign_start through the day after "
        "settlement_cutoff (dbt vars; decision D21), run the whole reward warehouse; "
        "other days are skipped."
    ),
)
def rewards_daily(context: ScheduleEvaluationContext):
    moment = context.scheduled_execution_time or datetime.now(ZoneInfo(SCHEDULE_TIMEZONE))
    day = _beijing_day(moment)
    first, last = schedule_window()
    if day < first:
        return SkipReason(
            f"{day} (Beijing) is before campaign_start {first}: nothing to reward yet"
        )
    if day > last:
        return SkipReason(
            f"{day} (Beijing) is past {last}, the day after settlement_cutoff "
            f"{last - timedelta(days=1)}: no later settlement counts (R3); "
            "run the job by hand (or turn on the landing sensor) for corrections"
        )
    return RunRequest(
        run_key=f"rewards_daily:{day.isoformat()}",
        tags={TRIGGER_TAG: "schedule", "rewards/beijing_day": day.isoformat()},
    )


# ---------------------------------------------------------------------------------------------
# the landing-files sensor


def landing_listing(landing: Path) -> dict[str, list[int]]:
    """Every file the loader would read: `<dataset>/<file>` -> [size, mtime in ns].

    The loader's own rule (loader.list_landing_files, D13): files starting with `.` or `_` are
    skipped -- write a landing file under such a name and rename it when complete, so a run
    never reads half of it. Other files count whatever their extension: a misnamed file makes
    the run fail, visibly, rather than being ignored."""
    listing: dict[str, list[int]] = {}
    for dataset in DATASETS:
        folder = landing / dataset
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")) or not path.is_file():
                continue
            stat = path.stat()
            listing[f"{dataset}/{path.name}"] = [stat.st_size, stat.st_mtime_ns]
    return listing


def listing_digest(listing: dict[str, list[int]]) -> str:
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:32]


def _changes(before: dict, after: dict) -> tuple[list[str], list[str], list[str]]:
    new = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(f for f in set(after) & set(before) if after[f] != before[f])
    return new, changed, removed


def _run_in_progress(context: SensorEvaluationContext) -> bool:
    try:
        instance = context.instance
    except DagsterInvariantViolationError:  # a test context built without an instance
        return False
    for run_id in fail_abandoned_cli_runs(instance):  # a killed `rewards run` is not running
        context.log.warning(f"run {run_id}'s `rewards run` process is gone: marked failed")
    runs = instance.get_run_records(
        RunsFilter(
            job_name=JOB_NAME,
            statuses=[
                DagsterRunStatus.QUEUED,
                DagsterRunStatus.NOT_STARTED,
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
                DagsterRunStatus.CANCELING,
            ],
        ),
        limit=1,
    )
    return bool(runs)


@sensor(
    name="landing_files_sensor",
    job_name=JOB_NAME,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description=(
        "Starts the rewards job when a file in the landing directory appears, changes (size or "
        "modification time) or disappears. Files starting with `.` or `_` are ignored."
    ),
)
def landing_files_sensor(context: SensorEvaluationContext, landing: LandingResource):
    root = Path(landing.path)
    listing = landing_listing(root)
    if not listing:
        return SkipReason(f"no landing files in {root}")
    before = json.loads(context.cursor) if context.cursor else {}
    new, changed, removed = _changes(before, listing)
    if not (new or changed or removed):
        return SkipReason(f"no new or changed landing files ({len(listing)} files)")
    if _run_in_progress(context):
        # the cursor stays where it is: the next evaluation after that run asks again
        return SkipReason(
            "landing files changed, but a rewards run is in progress; "
            "waiting for it to finish (the warehouse takes one writer)"
        )
    summary = f"{len(new)} new, {len(changed)} changed, {len(removed)} removed"
    context.log.info(
        f"landing files: {summary}: "
        + ", ".join((new + changed + removed)[:20])
        + (" …" if len(new + changed + removed) > 20 else "")
    )
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"landing:{listing_digest(listing)}",
                tags={TRIGGER_TAG: "landing_files", "rewards/landing_changes": summary},
            )
        ],
        cursor=json.dumps(listing, sort_keys=True),
    )
