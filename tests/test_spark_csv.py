"""The Spark loader's CSV parser (`spark_app.parse_csv`, D70), which every executor runs on whole
landing files, gives each CSV fault DuckDB's one line: no JVM needed, since it is plain Python.
tests/test_spark.py loads one fault of each path through the cluster (the parser's included)."""

from __future__ import annotations

import pytest
from test_loader import GOOD, HEADER, UNREADABLE

from orchestration.defs.landing.spark_app import parse_csv

CSV_FAULTS = [
    case for case in UNREADABLE if case[0].endswith(".csv") and case[2] and case[1] != b""
]


@pytest.mark.parametrize("name, content, message", CSV_FAULTS, ids=[c[0] for c in CSV_FAULTS])
def test_each_csv_fault_is_duckdbs_line(name, content, message, tmp_path):
    uri = (tmp_path / "orders" / name).as_uri()
    rows = parse_csv(uri, content, "orders")
    errors = [row[2] for row in rows if row[2] is not None]
    assert len(errors) == 1 and len(rows) == 1, rows  # the file stops at its first error
    assert errors[0].startswith(message) and "\n" not in errors[0], errors[0]


def test_a_good_file_parses_to_its_rows_numbered_as_duckdb_numbers_them(tmp_path):
    uri = (tmp_path / "orders" / "good.csv").as_uri()
    rows = parse_csv(uri, (HEADER + GOOD + "\n" + GOOD).encode(), "orders")  # a blank line
    assert [(row[1], row[2]) for row in rows] == [(1, None), (2, None)]
    assert rows[0][0] == str(tmp_path / "orders" / "good.csv")  # recorded by its path
    assert rows[0][3:] == rows[1][3:] and "" not in rows[0][3:]  # empty fields are None
