"""The bottom floor: quoting SQL, writing markdown tables and money for people. Every layer imports
it; it imports nothing of the project."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


def money(value: Any, signed: bool = False) -> str:
    """An amount as people read it: thousands separated, two decimals, exact (1,024.10;
    `signed`: +1,024.10 / -400.00)."""
    return f"{Decimal(value):+,.2f}" if signed else f"{Decimal(value):,.2f}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun agreeing: 1 order, 2 orders, 1,024 accounts."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def md_cell(value: Any) -> str:
    """A value as a markdown table cell: exact (a Decimal prints as written), pipes escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: Iterable[tuple]) -> str:
    """A markdown table (Dagster's metadata renders it in the UI)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def human_bytes(n: int) -> str:
    """A size as people read it: 512 B, 3.4 MB, 1.2 GB (powers of 1024)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
