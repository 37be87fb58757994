"""A finance desk for the ledger's tests: a warehouse folder whose serving copy is whichever of
the finance landing's served days a test puts there (tests/support/finance_cases.py), with its
own ledger and anchor beside it, and `rewards` run in this process as a user types it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from orchestration.cli import main


def rewards(*args: str) -> tuple[int, str]:
    """`rewards ARGS` in this process: its exit code and what it printed."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


class Desk:
    def __init__(self, root: Path, finance_runs: dict) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.warehouse = root / "warehouse.duckdb"
        self.serving = root / "warehouse.serving.duckdb"
        self.ledger = root / "warehouse.ledger.duckdb"
        self.anchor = root / "warehouse.ledger.anchor"
        self.runs = finance_runs

    def serve(self, day: int) -> None:
        shutil.copyfile(self.runs[f"day{day}_serving"], self.serving)

    def run(self, *args: str) -> tuple[int, str]:
        return rewards(*args, "--warehouse", str(self.warehouse))

    def ok(self, *args: str) -> str:
        code, out = self.run(*args)
        assert code == 0, out
        return out

    def refused(self, *args: str) -> str:
        """A refusal: exit code 2 and one line."""
        code, out = self.run(*args)
        assert code == 2 and len(out.strip().splitlines()) == 1, out
        return out

    def anchor_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.anchor.read_text().splitlines()]
