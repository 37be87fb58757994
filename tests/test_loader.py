"""The landing loader on its own (R12 at the door): DuckDB readers, contract checks, atomicity."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.landing.contract import DATASETS
from orchestration.defs.landing.loader import LandingError, load_dataset

ORDERS = DATASETS["orders"]
HEADER = ("order_id,updated_at,account_id,channel,video_id,created_at,amount,refunded_amount,"
          "status,settled_at\n")
GOOD = ("o1,2025-11-22T10:00:00Z,a1,short_video,v1,2025-11-22T10:00:00Z,10.00,0.00,paid,\n")


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_missing_folder_is_a_clear_error(con, tmp_path):
    with pytest.raises(LandingError, match="landing folder not found"):
        load_dataset(con, ORDERS, tmp_path / "orders")


def test_file_missing_a_column_fails_naming_file_and_column(con, tmp_path):
    path = write(tmp_path, "o.csv", HEADER.replace(",amount", "") + GOOD)
    with pytest.raises(LandingError) as err:
        load_dataset(con, ORDERS, tmp_path)
    assert str(path) in str(err.value) and "amount" in str(err.value)


def test_unreadable_parquet_fails_naming_the_file(con, tmp_path):
    path = write(tmp_path, "broken.parquet", "this is not parquet")
    with pytest.raises(LandingError, match=str(path)):
        load_dataset(con, ORDERS, tmp_path)


def test_other_extensions_fail_hidden_files_are_skipped(con, tmp_path):
    write(tmp_path, ".DS_Store", "x")
    write(tmp_path, "_SUCCESS", "")
    write(tmp_path, "a.csv", HEADER + GOOD)
    assert load_dataset(con, ORDERS, tmp_path).rows_loaded == 1
    write(tmp_path, "notes.txt", "hello")
    with pytest.raises(LandingError, match="not a CSV or Parquet"):
        load_dataset(con, ORDERS, tmp_path)


def test_failed_load_leaves_previous_tables_untouched(con, tmp_path):
    write(tmp_path, "a.csv", HEADER + GOOD)
    load_dataset(con, ORDERS, tmp_path)
    write(tmp_path, "b.parquet", "garbage")
    with pytest.raises(LandingError):
        load_dataset(con, ORDERS, tmp_path)
    assert con.execute("select order_id from raw.orders").fetchall() == [("o1",)]


def test_typed_parquet_checks_zone_and_float_money(con, tmp_path):
    tz = pa.timestamp("us", tz="UTC")
    naive = pa.timestamp("us")
    ts = pa.array([1763805600000000], tz)
    common = {
        "order_id": pa.array(["p1"]), "account_id": pa.array(["a1"]),
        "channel": pa.array(["short_video"]), "video_id": pa.array(["v1"]),
        "status": pa.array(["paid"]), "settled_at": pa.array([None], tz),
        "refunded_amount": pa.array([Decimal("0.00")], pa.decimal128(18, 2)),
    }
    good = pa.table({**common, "updated_at": ts, "created_at": ts,
                     "amount": pa.array([Decimal("12.34")], pa.decimal128(18, 2))})
    naive_ts = pa.table({**common, "order_id": pa.array(["p2"]), "updated_at": ts,
                         "created_at": pa.array([1763805600000000], naive),
                         "amount": pa.array([Decimal("12.34")], pa.decimal128(18, 2))})
    float_money = pa.table({**common, "order_id": pa.array(["p3"]), "updated_at": ts,
                            "created_at": ts, "amount": pa.array([12.34], pa.float64())})
    for name, table in (("good", good), ("naive", naive_ts), ("float", float_money)):
        pq.write_table(table, tmp_path / f"{name}.parquet")
    result = load_dataset(con, ORDERS, tmp_path)
    assert result.by_reason == {"timestamp_without_zone": 1, "unparseable_value": 1}
    assert con.execute("select order_id, amount from raw.orders").fetchall() == [
        ("p1", Decimal("12.34"))
    ]


def test_csv_text_formats(con, tmp_path):
    one_decimal = GOOD.replace("o1,", "o2,").replace("10.00", "10.5")
    write(tmp_path, "a.csv", HEADER + GOOD + one_decimal)
    result = load_dataset(con, ORDERS, tmp_path)
    assert result.rows_loaded == 2 and result.rows_quarantined == 0
    write(tmp_path, "b.csv", HEADER + GOOD.replace("o1,", "o4,").replace(",paid,", ",PAID,")
          + GOOD.replace("o1,", "o5,").replace("2025-11-22T10:00:00Z,a1", "2025-11-22 10:00,a1"))
    result = load_dataset(con, ORDERS, tmp_path)
    assert result.by_reason == {"invalid_category": 1, "timestamp_without_zone": 1}
