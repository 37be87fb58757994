"""The short end-of-run summary finance and engineers read (small results only): the programme's
figures as marts.program_summary computed and labelled them (D61), the reconciliation, and the
quality checks, every number formatted one way (D62)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from .formatting import number, quantity, unit_of
from .serving_layout import Figure, read_program_summary


@dataclass
class RunSummary:
    figures: list[Figure] = field(default_factory=list)
    unbalanced_identities: list[str] = field(default_factory=list)
    checks_passed: int = 0
    # every check that failed with WARN severity, as progress.check_failure words it
    check_warnings: list[str] = field(default_factory=list)
    # those of them that count rows the contract quarantined: the figures show those rows
    quarantine_warnings: list[str] = field(default_factory=list)
    data_docs: str = ""
    serving_copy: str = ""
    dagster_run_id: str = ""
    dagster_home: str = ""

    def value(self, metric: str, breakdown: str) -> Decimal:
        """A figure's value, by its metric and breakdown (0 when program_summary has no row)."""
        found = [f.value for f in self.figures if (f.metric, f.breakdown) == (metric, breakdown)]
        return found[0] if found else Decimal(0)

    def lines(self) -> list[str]:
        width = max((len(f.label) for f in self.figures), default=0)
        numbers = [number(f.value, f.unit) for f in self.figures]
        digits = max((len(n) for n in numbers), default=0)
        out = [
            f"{f.label:<{width}}  {n:>{digits}} {unit_of(f.value, f.unit)}"
            for f, n in zip(self.figures, numbers, strict=True)
        ]
        if self.unbalanced_identities:
            out.append("RECONCILIATION DOES NOT CLOSE: " + "; ".join(self.unbalanced_identities))
        else:
            out.append("reconciliation      closes (R12)")
        if self.checks_passed or self.check_warnings:
            line = (
                f"quality checks      {number(self.checks_passed)} passed, "
                f"{quantity(len(self.check_warnings), 'warnings')}"
            )
            if self.quarantine_warnings:
                # printed once: the quarantined rows are among the figures above
                line += (
                    f" ({number(len(self.quarantine_warnings))} of them the contract's "
                    "quarantined rows above)"
                )
            out.append(line)
            out += [
                f"  {warning}"
                for warning in self.check_warnings
                if warning not in self.quarantine_warnings
            ]
        if self.data_docs:
            out.append(f"data docs           {self.data_docs}")
        if self.dagster_run_id:
            out.append(
                f"dagster run         {self.dagster_run_id} (in {self.dagster_home}; "
                "`rewards ui` shows it)"
            )
        if self.serving_copy:
            out.append(
                f"for finance         {self.serving_copy} (rewards explain / export / publish)"
            )
        return out


# R12's identities that do not close: the same text on DuckDB and on Spark
UNBALANCED_QUERY = "select identity from marts.reconciliation where not is_balanced"


def read_summary(warehouse: Path) -> RunSummary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        figures = read_program_summary(con)
        unbalanced = [r[0] for r in con.execute(UNBALANCED_QUERY).fetchall()]
    finally:
        con.close()
    return RunSummary(figures, unbalanced_identities=unbalanced)
