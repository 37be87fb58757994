"""Run the asset graph in-process: the same Definitions `dg dev` loads, recorded in the
project's Dagster instance. `execute` is the one way a run starts outside the UI: `rewards run`
(`run_pipeline`, which adds the summary) and the tests' harness both go through it."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from dagster import (
    AssetCheckSeverity,
    AssetSelection,
    Definitions,
    ExecuteInProcessResult,
    define_asset_job,
)

from .contract import DATASETS, all_reasons
from .dbt_runner import dbt_target_dir
from .defs.landing.loader import check_landing
from .defs.quality.validation import build_run_data_docs, preload
from .instance import cli_run_tags, fail_abandoned_cli_runs, open_instance
from .rule_vars import RuleVars
from .run_folders import check_writable
from .serving_layout import served_generation
from .settings import Settings
from .summary import RunSummary, read_summary
from .warehouse_lock import RUN_WAIT_SECONDS, holding_for_run


class RunFailed(Exception):
    pass


class RunInterrupted(Exception):
    """Ctrl-C (SIGINT, or SIGTERM, which Dagster treats alike) once the run held the warehouse;
    `published`: whether it had switched finance's serving copy by then."""

    def __init__(self, run_id: str, published: bool) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id
        self.published = published


@dataclass(frozen=True)
class Execution:
    run_id: str
    result: ExecuteInProcessResult  # the run's events, as Dagster recorded them
    data_docs: Path
    dbt_log: Path


def execute(
    settings: Settings,
    rule_vars: RuleVars | None = None,
    selection: AssetSelection | None = None,
    quiet: bool = False,
    command: str = "run",
) -> Execution:
    """Materialize the assets of `selection` (all: the `rewards` job) as one run in the
    project's Dagster instance (instance.py), so the UI shows it; raise
    ValueError/FileNotFoundError for bad input, FolderNotWritable for a folder it cannot write.
    dbt's own log goes to `<warehouse>.dbt/dbt.log` instead of the terminal; progress goes to
    stdout unless `quiet`."""
    with executing(settings, rule_vars, selection, quiet, command) as run:
        return run


@contextlib.contextmanager
def executing(
    settings: Settings,
    rule_vars: RuleVars | None = None,
    selection: AssetSelection | None = None,
    quiet: bool = False,
    command: str = "run",
) -> Iterator[Execution]:
    """`execute`, with the warehouse still held for the run until the block ends: what the
    block reads of the warehouse is this run's, and a run waiting for the warehouse starts
    only after it (D56)."""
    if not settings.landing_elsewhere:
        check_landing(settings.landing_dir)
    check_writable(settings)

    from .definitions import build_defs
    from .progress import HANDLER, progress_logger

    # the check steps store GX's results; their Data Docs pages are rendered once, after the run
    defs = build_defs(
        settings,
        loggers={"progress": progress_logger},
        rule_vars=rule_vars,  # resolved once, by the caller; handed on as they are
    )
    if selection is None:
        job = defs.resolve_job_def("rewards")
    else:
        chosen = define_asset_job("selection", selection=selection)
        job = Definitions.merge(defs, Definitions(jobs=[chosen])).resolve_job_def("selection")
    run_config = {"loggers": {"progress": {}}}
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    # dbt writes its own log into its target folder; whatever a library prints during the run
    # goes to `<warehouse>.dbt.log` instead of the terminal
    dbt_log = dbt_target_dir(settings.warehouse) / "dbt.log"
    printed = settings.warehouse.with_suffix(".dbt.log")
    run_id = str(uuid.uuid4())  # Dagster's own run ids are UUID4s; known before the run starts
    with contextlib.ExitStack() as stack:
        instance = stack.enter_context(open_instance(settings.dagster_home))
        # the run's first line once its instance is open: a folder Dagster refuses (instance.py)
        # is the only line
        terminal = stack.enter_context(open(os.devnull, "w")) if quiet else sys.stdout
        HANDLER.reset(terminal)
        stack.callback(HANDLER.reset, sys.stdout)  # before a quiet run's devnull is closed
        HANDLER.line(f"Dagster run {run_id} (instance {settings.dagster_home})")
        # the warehouse, for the whole run and what the caller reads after it; the run's
        # `warehouse` resource finds it held (D26, D56)
        stack.enter_context(
            holding_for_run(
                settings.warehouse,
                f"Dagster run {run_id}",
                RUN_WAIT_SECONDS,
                lambda message: HANDLER.line(f"warning: {message}"),
            )
        )
        # only this run publishes now: what finance reads changes only if it does
        served = served_generation(settings.serving_copy)

        def interrupted() -> RunInterrupted:
            return RunInterrupted(run_id, served_generation(settings.serving_copy) != served)

        try:
            log = stack.enter_context(open(printed, "w"))
            # after the instance is open: its storage imports SQLAlchemy in this thread, and
            # two threads importing SQLAlchemy at once can see it half-initialized
            preload()
            for abandoned in fail_abandoned_cli_runs(instance):
                HANDLER.line(
                    f"warning: run {abandoned} had been left unfinished by a killed "
                    "process; marked failed"
                )
            # what the libraries print or log while the run goes (GX's warnings on stderr
            # among them) goes to the log too, and so does what the processes Dagster starts
            # print (its log tailers' tracebacks on Ctrl-C); the progress handler keeps the
            # terminal it was given
            with (
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
                _stderr_descriptor_to(log),
            ):
                result = job.execute_in_process(
                    run_config=run_config,
                    instance=instance,
                    run_id=run_id,
                    raise_on_error=False,
                    tags=cli_run_tags(command),
                )
                # a run that raised (its instance could not record it: a full disk) renders no
                # pages; the results it stored stay, and nothing renders them unless
                # build_run_data_docs is called with its run id
                docs = build_run_data_docs(settings.quality_dir, run_id)
        except KeyboardInterrupt as exc:
            raise interrupted() from exc
        if _interrupted(result):  # Ctrl-C in a step or between two, as Dagster recorded it
            raise interrupted()
        try:
            yield Execution(run_id, result, docs, dbt_log)
        except KeyboardInterrupt as exc:  # in what the caller reads while the run holds on
            raise interrupted() from exc


@contextlib.contextmanager
def _stderr_descriptor_to(log: TextIO) -> Iterator[None]:
    """Point this process's file descriptor 2 at `log` for the block, so the processes started
    meanwhile inherit it as their stderr; restored after."""
    if sys.__stderr__ is not None:
        sys.__stderr__.flush()
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _interrupted(result: ExecuteInProcessResult) -> bool:
    """Whether Ctrl-C stopped the run: in a step, or between two."""
    from .progress import interrupted

    return any(
        interrupted(event.event_specific_data)
        for event in result.all_events
        if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE")
    )


def _counts_quarantine(evaluation) -> bool:
    """A raw dataset's WARN check `quarantined_<reason>` (expectations/raw.py): the rows the
    contract quarantined for that reason, which the summary's figures list."""
    dataset = evaluation.asset_key.path
    return (
        len(dataset) == 2
        and dataset[0] == "raw"
        and dataset[1] in DATASETS
        and evaluation.check_name in {f"quarantined_{reason}" for reason in all_reasons()}
    )


def run_pipeline(
    settings: Settings, rule_vars: RuleVars | None = None, quiet: bool = False, command: str = "run"
) -> RunSummary:
    """`execute` every asset and summarize the run (summary.py), while the run still holds the
    warehouse: a run waiting for it would otherwise open it first (D56). RunFailed when an
    asset fails, naming the checks that stopped it or the failed steps; RunInterrupted on
    Ctrl-C once the run holds the warehouse."""
    with executing(settings, rule_vars, quiet=quiet, command=command) as run:
        return summarize(settings, run)


def summarize(settings: Settings, run: Execution) -> RunSummary:
    """The summary of a run that `executing` ran, read while it still holds the warehouse."""
    from .progress import check_failure, step_failure_message

    run_id, result, docs, dbt_log = run.run_id, run.result, run.data_docs, run.dbt_log
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    if not result.success:
        blocked = [
            check_failure(ev)
            for ev in evaluations
            if not ev.passed and ev.severity == AssetCheckSeverity.ERROR
        ]
        if blocked:
            raise RunFailed(
                f"run {run_id} stopped by quality checks; what depends on them was "
                "not built: " + "; ".join(blocked) + f" (Data Docs: {docs})"
            )
        failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        # a step that failed with a description (a landing file, a rule var) says it all; any
        # other failure is named by its step
        failures = [
            step_failure_message(e.event_specific_data)
            if getattr(e.event_specific_data, "user_failure_data", None)
            else f"{e.step_key}: {step_failure_message(e.event_specific_data)}"
            for e in failed
        ]
        dbt_failed = any(e.step_key.endswith("_models") for e in failed) or not failed
        raise RunFailed(
            f"run {run_id} failed: "
            + ("; ".join(failures) or "see " + str(dbt_log))
            + (f" (dbt log: {dbt_log})" if dbt_failed else "")
        )
    summary = read_summary(settings.warehouse)
    summary.checks_passed = sum(ev.passed for ev in evaluations)
    warned = [ev for ev in evaluations if not ev.passed]
    summary.check_warnings = [check_failure(ev) for ev in warned]
    summary.quarantine_warnings = [check_failure(ev) for ev in warned if _counts_quarantine(ev)]
    summary.data_docs = str(docs)
    summary.serving_copy = str(settings.serving_copy)
    summary.dagster_run_id = run_id
    summary.dagster_home = str(settings.dagster_home)
    return summary
