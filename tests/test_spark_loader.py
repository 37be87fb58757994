"""The Spark loader (orchestration/defs/landing/spark_loader.py) refuses every file the DuckDB
loader refuses, with the DuckDB loader's one line.

One dev Spark session (a local[2] session in a child process, behind the loader's SQL and app
interfaces) for the module: each fault is one load, and on the cluster each load is an
application submitted to the master (~20 s each), so the faults run here. The rulebook landing
is loaded on the session's cluster and compared with DuckDB's in tests/test_spark.py.
"""

from __future__ import annotations

import shutil

import pytest
from test_loader import GOOD, HEADER, UNREADABLE

from orchestration.contract import DATASETS
from orchestration.defs.landing.files import LandingError

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="no `java` on PATH: Spark needs a JVM (Java 17)"
    ),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from orchestration.defs.landing.spark_dev import LocalSpark

    with LocalSpark(tmp_path_factory.mktemp("spark-loader")) as session:
        yield session
        jvms = session.jvm_pids()
    assert len(jvms) == 1  # the session's own JVM, which ended with it (checked below)
    assert session.process is None


# Not yet on Spark: a zero-byte file. Spark's file scans (the binaryFile listing included) skip
# zero-length files, so the Spark loader does not see one and loads the folder without it
# (docs/spark.md, "Known gaps"); DuckDB refuses it.
NOT_YET = ("empty.csv", "empty.parquet")
FAULTS = [case for case in UNREADABLE if case[0] not in ("orders.txt", "orders", *NOT_YET)] + [
    # Spark's CSV reader would round this into decimal(18,2); the contract refuses it
    ("lenient.csv", (HEADER + GOOD.replace("10.00", "12.345")).encode(), None),
]


def test_file_faults_are_one_line_naming_the_file_as_on_duckdb(spark, tmp_path):
    """Every file the DuckDB loader refuses (test_loader.UNREADABLE: truncated or broken
    Parquet, a missing column, a repeated header name, ragged and short lines, not UTF-8, broken
    quotes, a mixed-ending file with an open quote) is refused on Spark with the same line, and
    `12.345`, which Spark's cast would round into cents, is quarantined as on DuckDB."""
    from orchestration.defs.landing.spark_loader import load_dataset_spark

    for i, (name, content, message) in enumerate(FAULTS):
        folder = tmp_path / f"landing{i}" / "orders"
        folder.mkdir(parents=True)
        (folder / "good.csv").write_text(HEADER + GOOD)
        (folder / name).write_bytes(content)
        if message is None:  # loads, with the row quarantined as on DuckDB
            result = load_dataset_spark(
                spark, spark, DATASETS["orders"], f"file://{folder}", f"file://{tmp_path}/r{i}"
            )
            assert result.by_reason == {"unparseable_value": 1}, name
            continue
        with pytest.raises(LandingError) as err:
            load_dataset_spark(
                spark, spark, DATASETS["orders"], f"file://{folder}", f"file://{tmp_path}/r{i}"
            )
        text = str(err.value)
        assert text.startswith(message) and "\n" not in text, (name, text)
