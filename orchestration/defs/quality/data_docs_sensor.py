"""Data Docs off the run's path: the check steps only store Great Expectations' results; the
pages of a run's results, and the site's index, are rendered once the run has ended.

`rewards run` renders them itself, right after its run (runner.py). A run from the UI ("Materialize
all"), the daily schedule or the landing sensor is rendered by the run status sensors
`data_docs_after_run` and `data_docs_after_failed_run`, which the daemon of `dg dev` evaluates
once the run has succeeded or failed (a failed run's pages say which checks failed). They are on
by default: they only write HTML into the quality folder, and the check metadata of every run
links to the pages they render.
"""

from __future__ import annotations

from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunStatusSensorContext,
    SkipReason,
    run_status_sensor,
)

from ...instance import TRIGGER_TAG
from ..resources import QualityResource
from .validation import build_run_data_docs, run_validation_results


def render_run_data_docs(context: RunStatusSensorContext, quality: QualityResource):
    """Render the Data Docs pages of the run the sensor saw end, unless `rewards run` ran it."""
    run = context.dagster_run
    if run.tags.get(TRIGGER_TAG) == "cli":
        return SkipReason(f"run {run.run_id} is rewards run's, which rendered its own pages")
    if not run_validation_results(Path(quality.path), run.run_id):
        return SkipReason(f"run {run.run_id} stored no validation results")
    index = build_run_data_docs(Path(quality.path), run.run_id)
    context.log.info(f"Data Docs of run {run.run_id}: {index}")
    return None


def _after(status: DagsterRunStatus, name: str):
    @run_status_sensor(
        run_status=status,
        name=name,
        description=(
            f"Renders the Great Expectations Data Docs pages of a run that ended in {status.value} "
            "(the check steps only store the results, so the run does not wait for the pages)."
        ),
        minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: RunStatusSensorContext, quality: QualityResource):
        return render_run_data_docs(context, quality)

    return _sensor


data_docs_after_success = _after(DagsterRunStatus.SUCCESS, "data_docs_after_run")
data_docs_after_failure = _after(DagsterRunStatus.FAILURE, "data_docs_after_failed_run")
