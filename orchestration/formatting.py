"""The bottom floor: quoting SQL, writing markdown tables, numbers and money for people. Every layer
imports it; it imports nothing of the project."""

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


def money(value: Any) -> str:
    """An amount as people read it: thousands separated, two decimals, exact (1,024.10)."""
    return f"{Decimal(value):,.2f}"


MONEY_UNIT = "CNY"


def number(value: Any, unit: str = "", *, signed: bool = False) -> str:
    """A number as the CLI prints it (D62): thousands separated; money (`unit` CNY) exact with
    two decimals, anything else whole: 1,024 / 1,008,835.69 / +5."""
    if unit == MONEY_UNIT:
        return f"{Decimal(value):+,.2f}" if signed else money(value)
    return f"{int(value):+,}" if signed else f"{int(value):,}"


def unit_of(value: Any, unit: str) -> str:
    """`unit`, a plural noun, agreeing with `value`: account for 1, accounts for 0 or 2."""
    if unit == MONEY_UNIT or abs(Decimal(value)) != 1:
        return unit
    return unit[:-3] + "y" if unit.endswith("ies") else unit.removesuffix("s")


def quantity(value: Any, unit: str, *, signed: bool = False) -> str:
    """`number` with its unit agreeing: 1 account, 2 accounts, 1,024 rows, 1 entry, +1 point,
    1,008,835.69 CNY."""
    return f"{number(value, unit, signed=signed)} {unit_of(value, unit)}"


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
