"""The short end-of-run summary finance and engineers read (small results only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb


@dataclass
class RunSummary:
    accounts: int
    eligible: int
    reward_points: int
    capped: int
    new_entrants: int
    window_gmv: str
    reward_base: str
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    unbalanced_identities: list[str] = field(default_factory=list)
    checks_passed: int = 0
    check_warnings: list[str] = field(default_factory=list)
    data_docs: str = ""
    serving_copy: str = ""
    dagster_run_id: str = ""
    dagster_home: str = ""

    def lines(self) -> list[str]:
        out = [
            f"accounts enrolled   {self.accounts:>14,}",
            f"eligible            {self.eligible:>14,}",
            f"new entrants        {self.new_entrants:>14,}",
            f"capped at the cap   {self.capped:>14,}",
            f"window GMV (CNY)    {self.window_gmv:>14}",
            f"reward base (CNY)   {self.reward_base:>14}",
            f"reward points       {self.reward_points:>14,}",
            f"quarantined rows    {sum(self.quarantined_by_reason.values()):>14,}",
        ]
        out += [f"  {reason:<28}{n:>8,}" for reason, n in self.quarantined_by_reason.items()]
        if self.unbalanced_identities:
            out.append("RECONCILIATION DOES NOT CLOSE: " + "; ".join(self.unbalanced_identities))
        else:
            out.append("reconciliation      closes (R12)")
        if self.checks_passed or self.check_warnings:
            out.append(
                f"quality checks      {self.checks_passed:,} passed, "
                f"{len(self.check_warnings):,} warnings"
            )
            out += [f"  {warning}" for warning in self.check_warnings]
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


def read_summary(warehouse: Path) -> RunSummary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            """
            select count(*), count(*) filter (where is_eligible),
                coalesce(sum(reward_points), 0), count(*) filter (where is_capped),
                count(*) filter (where is_new_entrant),
                cast(coalesce(sum(window_gmv), 0) as varchar),
                cast(coalesce(sum(reward_base), 0) as varchar)
            from marts.account_rewards
            """
        ).fetchone()
        reasons = dict(
            con.execute(
                "select reason, count(*) from marts.quarantine group by 1 order by 2 desc, 1"
            ).fetchall()
        )
        unbalanced = [
            r[0]
            for r in con.execute(
                "select identity from marts.reconciliation where not is_balanced"
            ).fetchall()
        ]
    finally:
        con.close()
    return RunSummary(*row, quarantined_by_reason=reasons, unbalanced_identities=unbalanced)
