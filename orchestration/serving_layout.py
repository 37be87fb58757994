"""What the serving copy holds: shared by the run that writes it (defs/serving/copy.py) and by
finance, which reads it (finance/serving.py), so neither imports the other; and the programme's
figures (marts.program_summary), which the run's summary and metadata read from the warehouse
and finance from the copy (D61)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

# The marts copied, in the order written; reward_order_lines is a view in the warehouse and
# becomes a table here.
SERVED_MARTS = (
    "account_rewards",
    "account_eligibility",
    "reward_order_lines",
    "video_quota",
    "program_summary",
    "reward_accrual",
    "quarantine",
    "reconciliation",
)


def local_now(timezone: str) -> str:
    """Now, ISO-8601 with the offset of the programme's timezone (Beijing, R1)."""
    return datetime.now(ZoneInfo(timezone)).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Figure:
    """One figure of the programme, a row of marts.program_summary: computed there once, named
    with the population it counts, and shown as it is by every surface (D61)."""

    metric: str
    breakdown: str
    label: str
    value: Decimal
    unit: str


def program_summary_query(table: str = "marts.program_summary") -> str:
    """The programme's figures in their order, as Figure's fields: the same text on DuckDB and
    on Spark (orchestration/spark/landing.py reads them over Thrift)."""
    return f"select metric, breakdown, label, value, unit from {table} order by position, breakdown"


def read_program_summary(
    con: duckdb.DuckDBPyConnection, table: str = "marts.program_summary"
) -> list[Figure]:
    """The programme's figures in their order, from the warehouse or a serving copy; a
    ValueError, one line, for a copy written before the figures had labels."""
    columns = {row[0] for row in con.execute(f"describe {table}").fetchall()}
    if "label" not in columns:
        raise ValueError(
            f"{table} was built before its figures were labelled with their population: run "
            "`rewards run` to publish it again"
        )
    rows = con.execute(program_summary_query(table)).fetchall()
    return [Figure(*row) for row in rows]


def served_generation(serving_copy: Path) -> str | None:
    """The file finance's serving copy is now (the link's target), None when there is none: a
    run that publishes switches the link to the other generation (D23)."""
    if serving_copy.is_symlink():
        return os.readlink(serving_copy)
    return str(serving_copy.stat().st_mtime_ns) if serving_copy.exists() else None
