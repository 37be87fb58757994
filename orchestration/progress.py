"""Terse progress output for `rewards run`: one line per asset as the run goes."""

from __future__ import annotations

import logging
import re
import sys
import time

from dagster import (
    AssetCheckSeverity,
    DagsterExecutionInterruptedError,
    InitLoggerContext,
    logger,
)

from .contract import DATASETS
from .formatting import number, quantity

# Dagster's error line for each step left out after a failure
_SKIPPED_STEP = re.compile(r"Dependencies for step \S+ (failed|were not executed).*Not executing")
_SHOWN = {
    "STEP_START",
    "STEP_FAILURE",
    "ASSET_MATERIALIZATION",
    "ASSET_CHECK_EVALUATION",
    "RUN_FAILURE",
}


def _row_noun(key_path: list[str]) -> str:
    """What an asset's rows are where it matters: the orders feed and its staging model hold
    change-log rows, `int_orders_current` one row per order (R2); "rows" elsewhere."""
    layer, name = (key_path[0], key_path[-1]) if len(key_path) == 2 else ("", "")
    if layer == "raw" and name in DATASETS:
        return DATASETS[name].row_noun
    if layer == "staging" and name.removeprefix("stg_") in DATASETS:
        return DATASETS[name.removeprefix("stg_")].row_noun
    if (layer, name) == ("intermediate", "int_orders_current"):
        return "orders"
    return "rows"


def root_message(error) -> str:
    """The first line of the innermost cause of a Dagster step error: the user's own message."""
    if error is None:
        return "unknown error"
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    # Dagster writes `module.Class: message`; the user reads the message, whose first line may
    # be empty (a library's message that starts with a blank line)
    prefix = lines and re.match(rf"^[\w.]*{re.escape(error.cls_name or '')}: ?", lines[0])
    if error.cls_name and prefix:
        lines[0] = lines[0][prefix.end() :]
    said = [line.strip() for line in lines if line.strip()]
    if not said:
        return f"{error.cls_name} (no message)" if error.cls_name else "unknown error"
    return said[0]


def step_failure_message(failure) -> str:
    """A failed step in one line: the description it failed with (a `Failure`: a landing file
    or a rule var, already in plain words), else the first line of the innermost error without
    its exception class."""
    user = getattr(failure, "user_failure_data", None)
    if user is not None and user.description:
        return user.description.strip().splitlines()[0]
    return root_message(failure.error)


def interrupted(failure) -> bool:
    """Whether a step or a run (its failure data) stopped on Ctrl-C: Dagster raises
    DagsterExecutionInterruptedError, or KeyboardInterrupt where it could not wait; DuckDB,
    interrupted inside a query, its own RuntimeError."""
    names = {DagsterExecutionInterruptedError.__name__, KeyboardInterrupt.__name__}
    error = getattr(failure, "error", None)
    while error is not None:
        if error.cls_name in names or (
            error.cls_name == "RuntimeError" and DUCKDB_INTERRUPTED in error.message
        ):
            return True
        error = error.cause
    return False


# What DuckDB's Python client raises (a RuntimeError) when SIGINT arrives during a query: a
# Ctrl-C in a step that was loading the landing files or building a model
DUCKDB_INTERRUPTED = "Query interrupted"


def check_failure(evaluation) -> str:
    """`✗ blocking check failed: raw/orders:unique_key (3 rows)` or `! warning: …`."""
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    unexpected = evaluation.metadata.get("unexpected")
    rows = f" ({quantity(unexpected.value, 'rows')})" if unexpected is not None else ""
    if evaluation.severity == AssetCheckSeverity.ERROR:
        return f"✗ blocking check failed: {name}{rows}"
    return f"! warning: {name}{rows}"


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__()
        self.stream = stream or sys.stdout
        self.started = time.monotonic()

    def reset(self, stream) -> None:
        self.stream = stream
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            if _SKIPPED_STEP.search(record.getMessage()):
                return  # a consequence of the failure already shown, once per later step
            if record.levelno >= logging.ERROR:
                self.line(f"error: {record.getMessage()}")
            elif record.levelno >= logging.WARNING:  # e.g. waiting for the warehouse's lock
                self.line(f"warning: {record.getMessage()}")
            return
        kind = event.event_type_value
        if kind not in _SHOWN:
            return
        if kind == "STEP_START":
            self.line(f"▶ {event.step_key}")
        elif kind == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            rows = mat.metadata.get("row_count") or mat.metadata.get("dagster/row_count")
            quarantined = mat.metadata.get("rows_quarantined")
            extra = (
                f"  {quantity(rows.value, _row_noun(mat.asset_key.path))}"
                if rows is not None
                else ""
            )
            if quarantined is not None and quarantined.value:
                extra += f", {number(quarantined.value)} quarantined"
            self.line(f"  ✓ {mat.asset_key.to_user_string()}{extra}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                self.line(f"  {check_failure(evaluation)}")
        elif kind == "STEP_FAILURE":
            if interrupted(event.event_specific_data):
                self.line(f"✗ {event.step_key} interrupted")
                return
            message = step_failure_message(event.event_specific_data)
            self.line(f"✗ {event.step_key} failed: {message}")
        elif kind == "RUN_FAILURE":
            self.line("✗ run failed")

    def line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:7.1f}s] {text}", file=self.stream, flush=True)


HANDLER = ProgressHandler()


@logger(description="One line per asset materialization, check failure and step failure.")
def progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.Logger("rewards.progress", level=logging.DEBUG)
    log.addHandler(HANDLER)
    return log
