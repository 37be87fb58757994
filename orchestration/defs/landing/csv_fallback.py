"""CSV files DuckDB's strict reader refuses but Python's `csv` module reads (D43).

DuckDB reads a landing CSV in strict mode, so a line with the wrong number of fields is an error
naming the line. Some files a person would call valid CSV still fail there: a file with mixed
line endings (`\\r\\n` and `\\n`, as concatenated exports have) stops DuckDB's parser with "The
CSV Parser state machine reached an invalid state". Such a file is read again by Python's `csv`
module (strict: a malformed quote is an error, never swallowed text) and written, record for
record, as a plain copy that DuckDB reads; its rows keep the original file's name and row
numbers. A file Python cannot read either is refused in one line naming the line and what is
wrong, in plain words.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

# what Python's csv module says, in plain words
_PLAIN = [
    (r"',' expected after '\"'", "a quoted field has other characters after its closing quote"),
    (r"unexpected end of data", "a quoted field is not closed"),
    (r"field larger than field limit", "a field longer than {limit:,} characters"),
    (r"new-line character seen in unquoted field", "a line break inside an unquoted field"),
]


class UnreadableCsv(Exception):
    """Python's csv module cannot read the file either: `line N: <what>`, in plain words."""


def duckdb_may_misread(message: str) -> bool:
    """Whether DuckDB's CSV error is one Python's csv module may read past: anything but the
    errors whose words the loader already has (a wrong number of fields, not UTF-8)."""
    return (
        "Expected Number of Columns" not in message
        and "not utf-8 encoded" not in message
        and "Invalid unicode" not in message
    )


def rewrite_as_plain_csv(source: Path, target: Path) -> None:
    """Read `source` with Python's csv module and write its records to `target` with `\\n` line
    ends and minimal quoting. UnreadableCsv when Python cannot read it; UnicodeDecodeError when
    it is not UTF-8."""
    with (
        open(source, newline="", encoding="utf-8-sig") as src,
        open(target, "w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.reader(src, delimiter=",", quotechar='"', doublequote=True, strict=True)
        writer = csv.writer(out, lineterminator="\n")
        try:
            for record in reader:
                if record:  # a blank line is no record (DuckDB skips them too)
                    writer.writerow(record)
        except csv.Error as exc:
            raise UnreadableCsv(f"line {reader.line_num}: {plain_words(str(exc))}") from exc


def plain_words(message: str) -> str:
    """Python's csv error in plain words (the Spark loader says the same)."""
    for pattern, words in _PLAIN:
        if re.search(pattern, message):
            return words.format(limit=csv.field_size_limit())
    return message
