"""The quarantine (R12), engine-free: which reason a row that breaks the contract gets, and what a
quarantine table holds. Each engine's SQL module (`duckdb_sql.py`, `spark_sql.py`) supplies how
a column's value is parsed in its dialect; the order in which the reasons are tried is here,
once (D2: the first broken rule is recorded, `detail` names the column).
"""

from __future__ import annotations

from collections.abc import Callable

from ...contract import DATE, DATE_PATTERN, INTEGER, MONEY, Column, Dataset

# (column, DuckDB type) of `raw.<dataset>_quarantine`; the Spark loader writes the same columns
QUARANTINE_COLUMNS = (
    ("dataset", "varchar not null"),
    ("source_file", "varchar not null"),
    ("source_row", "bigint"),
    ("reason", "varchar not null"),
    ("detail", "varchar"),
    ("record", "json"),
)

# parse(column, source type) -> (SQL of the typed value, [(condition, reason)] in cascade order)
Parse = Callable[[Column, str], tuple[str, list[tuple[str, str]]]]


def key_detail(dataset: Dataset) -> str:
    """The `detail` of a `duplicate_key` row: the key's columns."""
    return ", ".join(dataset.unique_key)


def cascade(
    dataset: Dataset,
    types: dict[str, str],
    parse: Parse,
    lit: Callable[[str], str],
    q: Callable[[str], str],
    text: str,
) -> tuple[list[str], str, str, str]:
    """The contract over one file's columns (`types`: column -> the source's type name):
    the typed columns (`<typed> as <column>`), the first failing value check's reason and
    column (SQL over the source columns, null when the values are good), and the first failing
    cross-field rule's reason (SQL over the typed columns). `text` is the dialect's string type."""
    typed_cols, items = [], []
    for column in dataset.columns:
        typed, checks = parse(column, types[column.name])
        typed_cols.append(f"{typed} as {q(column.name)}")
        src = q(column.name)
        if column.required:
            items.append((f"{src} is null", "missing_required_value", column.name))
        items += [
            (f"{src} is not null and ({cond})", reason, column.name) for cond, reason in checks
        ]
        if column.accepted:
            values = ", ".join(lit(v) for v in column.accepted)
            items.append(
                (
                    f"{src} is not null and cast({src} as {text}) not in ({values})",
                    "invalid_category",
                    column.name,
                )
            )
    # Cross-field rules run on the typed values, after every value parsed.
    rules = [(f"coalesce({r.violated_when}, false)", r.reason, None) for r in dataset.rules]

    def case(cases: list[tuple[str, str, str | None]], pick: int) -> str:
        """First matching condition wins; `pick` 1 yields the reason, 2 the column."""
        whens = " ".join(
            f"when {item[0]} then {lit(item[pick]) if item[pick] else 'null'}" for item in cases
        )
        return f"case {whens} end" if cases else "null"

    return typed_cols, case(items, 1), case(items, 2), case(rules, 1)


# Text formats from the data contract, exactly (docs/data-contract.md, "Formats"; D33). The
# engines' casts are more lenient (`2025/12/01`, `+5`, `1_000`, ` 10`, `24:00:00`, a date for a
# timestamp, `12.345` rounded into cents): a value must match these before it is cast, and the
# cast then checks the calendar. Both engines' regular expressions take this syntax.
DATE_PART = DATE_PATTERN
TIME_PART = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6}0*)?)?"
# an instant: ISO-8601 date `T` time, with `Z` or an offset +hh:mm / -hh:mm
INSTANT_TEXT = rf"^{DATE_PART}T{TIME_PART}(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
# a local date-time, `T` or space: it lacks its zone (`timestamp_without_zone`), nothing else
LOCAL_TEXT = rf"^{DATE_PART}[T ]{TIME_PART}$"
DATE_TEXT = rf"^{DATE_PART}$"
INTEGER_TEXT = r"^-?[0-9]+$"
MONEY_TEXT = r"^-?[0-9]+(\.[0-9]{1,2})?$"
TEXT_FORMATS = {DATE: DATE_TEXT, INTEGER: INTEGER_TEXT, MONEY: MONEY_TEXT}
