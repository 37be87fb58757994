"""The landing loader on its own (R12 at the door): DuckDB readers, contract checks, atomicity."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract import DATASETS
from orchestration.defs.landing import bookkeeping
from orchestration.defs.landing.loader import LandingError, load_dataset

ORDERS = DATASETS["orders"]
HEADER = (
    "order_id,updated_at,account_id,channel,video_id,created_at,amount,refunded_amount,"
    "status,settled_at\n"
)
GOOD = "o1,2025-11-22T10:00:00Z,a1,short_video,v1,2025-11-22T10:00:00Z,10.00,0.00,paid,\n"


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


def _truncated_parquet() -> bytes:
    import io

    buffer = io.BytesIO()
    pq.write_table(pa.table({"order_id": ["x"] * 1000}), buffer)
    whole = buffer.getvalue()
    return whole[: len(whole) // 2]


ROW_GBK = GOOD.replace("o1,", "o2,").replace(",a1,", ",\u5f20\u4e09,").encode("gbk")
# Issue 14: every file that cannot be loaded fails its dataset in one line: the file relative to
# the landing directory, the line where known, and what is wrong in plain words.
UNREADABLE = [
    (
        "gbk.csv",
        (HEADER + GOOD).encode() + ROW_GBK,
        "orders/gbk.csv: line 3: not UTF-8 text (the landing files' encoding; save the file as "
        "UTF-8)",
    ),
    (
        "gbk_header.csv",
        HEADER.replace("amount", "\u91d1\u989d").encode("gbk"),
        "orders/gbk_header.csv: line 1: not UTF-8 text",
    ),
    (
        "ragged.csv",
        (HEADER + GOOD + GOOD.replace("\n", ",extra\n")).encode(),
        "orders/ragged.csv: line 3: 11 fields where the header has 10",
    ),
    (
        "short.csv",
        (HEADER + GOOD + GOOD + "o3,2025\n").encode(),
        "orders/short.csv: line 4: 2 fields where the header has 10",
    ),
    (
        "quote.csv",
        (HEADER + GOOD + '"o9,2025\n').encode(),
        "orders/quote.csv: line 3: a quoted field is not closed",
    ),
    (
        "junk_after_quote.csv",
        (HEADER + GOOD + GOOD.replace("a1", '"a1"x')).encode(),
        "orders/junk_after_quote.csv: line 3: a quoted field has other characters after its "
        "closing quote",
    ),
    (
        "mixed_and_unclosed.csv",  # DuckDB stops at the line ends, Python at the quote
        (HEADER.replace("\n", "\r\n") + GOOD + '"o9,2025\r\n' + GOOD).encode(),
        "orders/mixed_and_unclosed.csv: line 4: a quoted field is not closed",
    ),
    (
        "empty.csv",
        b"",
        "orders/empty.csv: the file is empty (0 bytes); a CSV needs at least its header row",
    ),
    ("empty.parquet", b"", "orders/empty.parquet: the file is empty (0 bytes)"),
    (
        "broken.parquet",
        b"this is not parquet",
        "orders/broken.parquet: not a Parquet file, or a truncated one (it has no Parquet footer)",
    ),
    (
        "truncated.parquet",
        _truncated_parquet(),
        "orders/truncated.parquet: not a Parquet file, or a truncated one",
    ),
    (
        "no_amount.csv",
        (HEADER.replace(",amount", "") + GOOD).encode(),
        "orders/no_amount.csv: missing contract column(s) amount (the file has: order_id, "
        "updated_at, account_id, channel, video_id, created_at, refunded_amount, status, "
        "settled_at)",
    ),
    (
        "twice.csv",
        (HEADER.replace("status", "amount") + GOOD).encode(),
        "orders/twice.csv: line 1: the header names amount more than once",
    ),
    (
        "orders.txt",
        (HEADER + GOOD).encode(),
        "orders/orders.txt: not a CSV or Parquet file (extension .txt; a landing folder takes "
        ".csv and .parquet files)",
    ),
    (
        "orders",
        (HEADER + GOOD).encode(),
        "orders/orders: not a CSV or Parquet file (extension none",
    ),
]


@pytest.mark.parametrize("name, content, message", UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_a_file_that_cannot_be_read_fails_in_one_line_naming_it(
    con, tmp_path, name, content, message
):
    folder = tmp_path / "orders"
    write(folder, "good.csv", HEADER + GOOD)
    (folder / name).write_bytes(content)
    with pytest.raises(LandingError) as err:
        load_dataset(con, ORDERS, folder)
    text = str(err.value)
    assert text.startswith(message) and "\n" not in text and str(tmp_path) not in text, text


def test_csv_with_mixed_line_endings_loads_as_pythons_csv_module_reads_it(con, tmp_path):
    """D43: a file with `\r\n` and `\n` line ends (two exports concatenated), which DuckDB's
    strict reader refuses ("state machine reached an invalid state"), loads every row as
    Python's csv module reads it, with the file's own name and row numbers: row 3's bad amount
    is quarantined as that row of that file, and a quoted field keeps its comma."""
    # DuckDB trips over the line ends after a non-empty last field: settled orders
    settled = GOOD.replace("paid,", "settled,2025-11-23T10:00:00Z")
    rows = [
        settled,
        settled.replace("o1", "o2").replace("10.00", "-1.00"),
        settled.replace("o1", "o3").replace("a1", '"a,3"'),
        settled.replace("o1", "o4"),
    ]
    text = (
        HEADER.replace("\n", "\r\n") + rows[0] + rows[1].replace("\n", "\r\n") + rows[2] + rows[3]
    )
    (tmp_path / "mixed.csv").write_bytes(text.encode())
    with pytest.raises(duckdb.Error, match="invalid state"):  # what DuckDB alone says
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in HEADER.strip().split(",")) + "}"
        duckdb.sql(
            f"from read_csv('{tmp_path / 'mixed.csv'}', header = true, auto_detect = false, "
            f"columns = {columns}, quote = '\"', escape = '\"', strict_mode = true)"
        ).fetchall()
    result = load_dataset(con, ORDERS, tmp_path, scratch=tmp_path / "scratch")
    assert result.rows_loaded == 3 and result.rows_quarantined == 1
    assert con.execute(
        "select order_id, account_id, _source_file, _source_row from raw.orders order by order_id"
    ).fetchall() == [
        ("o1", "a1", str(tmp_path / "mixed.csv"), 1),
        ("o3", "a,3", str(tmp_path / "mixed.csv"), 3),
        ("o4", "a1", str(tmp_path / "mixed.csv"), 4),
    ]
    assert con.execute(
        "select source_file, source_row, reason from raw.orders_quarantine"
    ).fetchall() == [(str(tmp_path / "mixed.csv"), 2, "non_positive_amount")]
    assert list((tmp_path / "scratch").iterdir()) == []  # the plain copy is gone


def test_hidden_files_are_skipped(con, tmp_path):
    write(tmp_path, ".DS_Store", "x")
    write(tmp_path, "_SUCCESS", "")
    write(tmp_path, "a.csv", HEADER + GOOD)
    assert load_dataset(con, ORDERS, tmp_path).rows_loaded == 1


def test_csv_with_bom_crlf_reordered_columns_and_quoted_empty_fields_loads(con, tmp_path):
    columns = HEADER.strip().split(",")
    values = GOOD.strip().split(",")
    order = list(reversed(range(len(columns))))
    header = ",".join(columns[i] for i in order)
    row = ",".join('""' if values[i] == "" else values[i] for i in order)
    (tmp_path / "a.csv").write_bytes("\ufeff".encode() + f"{header}\r\n{row}\r\n".encode())
    assert load_dataset(con, ORDERS, tmp_path).rows_loaded == 1
    assert con.execute(
        "select order_id, status, settled_at, amount from raw.orders"
    ).fetchall() == [("o1", "paid", None, Decimal("10.00"))]


def test_failed_load_leaves_previous_tables_untouched(con, tmp_path):
    write(tmp_path, "a.csv", HEADER + GOOD)
    load_dataset(con, ORDERS, tmp_path)
    write(tmp_path, "b.parquet", "garbage")
    with pytest.raises(LandingError):
        load_dataset(con, ORDERS, tmp_path)
    assert con.execute("select order_id from raw.orders").fetchall() == [("o1",)]


def test_ctrl_c_while_a_load_ends_is_still_a_ctrl_c(con, tmp_path, monkeypatch):
    """CI, 2026-12-07: SIGINT reached a run's step while it read the totals of a dataset whose
    files had not changed, after the loader had rolled back; the loader's second `rollback`
    failed ("no transaction is active") and that error hid the Ctrl-C, so the run read as
    failed, not interrupted. An interrupt there, or during a load's last statements, leaves
    as itself, with the tables as they were."""
    write(tmp_path, "a.csv", HEADER + GOOD)
    load_dataset(con, ORDERS, tmp_path)

    def ctrl_c(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bookkeeping, "read_totals", ctrl_c)  # the unchanged folder's last step
    with pytest.raises(KeyboardInterrupt):
        load_dataset(con, ORDERS, tmp_path)
    monkeypatch.setattr(bookkeeping, "record_load", ctrl_c)  # a new file's load, before commit
    write(tmp_path, "b.csv", HEADER + GOOD.replace("o1,", "o2,"))
    with pytest.raises(KeyboardInterrupt):
        load_dataset(con, ORDERS, tmp_path)
    assert con.execute("select order_id from raw.orders").fetchall() == [("o1",)]
    monkeypatch.undo()
    assert load_dataset(con, ORDERS, tmp_path).rows_loaded == 2  # nothing was left half-done


def test_typed_parquet_checks_zone_and_float_money(con, tmp_path):
    tz = pa.timestamp("us", tz="UTC")
    naive = pa.timestamp("us")
    ts = pa.array([1763805600000000], tz)
    common = {
        "order_id": pa.array(["p1"]),
        "account_id": pa.array(["a1"]),
        "channel": pa.array(["short_video"]),
        "video_id": pa.array(["v1"]),
        "status": pa.array(["paid"]),
        "settled_at": pa.array([None], tz),
        "refunded_amount": pa.array([Decimal("0.00")], pa.decimal128(18, 2)),
    }
    good = pa.table(
        {
            **common,
            "updated_at": ts,
            "created_at": ts,
            "amount": pa.array([Decimal("12.34")], pa.decimal128(18, 2)),
        }
    )
    naive_ts = pa.table(
        {
            **common,
            "order_id": pa.array(["p2"]),
            "updated_at": ts,
            "created_at": pa.array([1763805600000000], naive),
            "amount": pa.array([Decimal("12.34")], pa.decimal128(18, 2)),
        }
    )
    float_money = pa.table(
        {
            **common,
            "order_id": pa.array(["p3"]),
            "updated_at": ts,
            "created_at": ts,
            "amount": pa.array([12.34], pa.float64()),
        }
    )
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
    write(
        tmp_path,
        "b.csv",
        HEADER
        + GOOD.replace("o1,", "o4,").replace(",paid,", ",PAID,")
        + GOOD.replace("o1,", "o5,").replace("2025-11-22T10:00:00Z,a1", "2025-11-22 10:00,a1"),
    )
    result = load_dataset(con, ORDERS, tmp_path)
    assert result.by_reason == {"invalid_category": 1, "timestamp_without_zone": 1}


# Issue 14: the contract's text formats, exactly. DuckDB's casts read more than the contract
# names; each near-miss here is a decision (docs/data-contract.md, "Formats"; D33).
ORDER_VALUES = [
    # column, value, reason (None: loaded)
    ("created_at", "2025-11-22T10:00:00Z", None),
    ("created_at", "2025-11-22T18:00:00+08:00", None),
    ("created_at", "2025-11-22T02:00:00-08:00", None),
    ("created_at", "2025-11-22T10:00:00.123456Z", None),
    ("created_at", "2025-11-22T10:00:00.123456000Z", None),  # nanoseconds, exact in µs
    ("created_at", "2025-11-22T10:00Z", None),  # ISO-8601 without seconds
    ("created_at", "2025/11/22T10:00:00Z", "unparseable_value"),  # the case
    ("created_at", "2025-11-22 10:00:00Z", "unparseable_value"),  # space: not ISO-8601
    ("created_at", "2025-11-22T10:00:00z", "unparseable_value"),
    ("created_at", "2025-11-22T10:00:00+0800", "unparseable_value"),
    ("created_at", "2025-11-22T10:00:00+08", "unparseable_value"),
    ("created_at", "2025-11-22T10:00:00 UTC", "unparseable_value"),
    ("created_at", "2025-11-22T10:00:00.1234567Z", "unparseable_value"),  # below a µs
    ("created_at", "2025-11-22T24:00:00Z", "unparseable_value"),
    ("created_at", "2025-11-22T10:00:00+25:00", "unparseable_value"),
    ("created_at", "2025-02-30T10:00:00Z", "unparseable_value"),
    ("created_at", "2025-11-22", "unparseable_value"),  # a date is not an instant
    ("created_at", " 2025-11-22T10:00:00Z", "unparseable_value"),
    ("created_at", "２０２５-11-22T10:00:00Z", "unparseable_value"),  # full-width digits
    ("created_at", "2025-11-22T10:00:00", "timestamp_without_zone"),
    ("created_at", "2025-11-22 10:00", "timestamp_without_zone"),
    ("amount", "10", None),
    ("amount", "10.5", None),
    ("amount", "0010.50", None),
    ("amount", "+10.00", "unparseable_value"),
    ("amount", " 10.00", "unparseable_value"),
    ("amount", "10.00 ", "unparseable_value"),
    ("amount", "1_000.00", "unparseable_value"),
    ("amount", "1e3", "unparseable_value"),
    ("amount", "10.", "unparseable_value"),
    ("amount", ".5", "unparseable_value"),
    ("amount", "10.005", "unparseable_value"),
    ("amount", "１０.00", "unparseable_value"),
    ("amount", "-5.00", "non_positive_amount"),
]
SNAPSHOT_HEADER = (
    "snapshot_date,account_id,account_type,follower_count,"
    "short_video_commerce_enabled,is_shop_self_operated\n"
)
SNAPSHOT = {
    "snapshot_date": "2025-11-22",
    "account_id": "a1",
    "account_type": "merchant",
    "follower_count": "1200",
    "short_video_commerce_enabled": "true",
    "is_shop_self_operated": "false",
}
SNAPSHOT_VALUES = [
    ("snapshot_date", "2025/12/01", "unparseable_value"),
    ("snapshot_date", "2025-12-1", "unparseable_value"),
    ("snapshot_date", "20251201", "unparseable_value"),
    ("snapshot_date", "2025-12-01T00:00:00Z", "unparseable_value"),
    ("snapshot_date", "2025-02-29", "unparseable_value"),
    ("snapshot_date", "2024-02-29", None),
    ("follower_count", "+5", "unparseable_value"),
    ("follower_count", "1_000", "unparseable_value"),
    ("follower_count", " 10", "unparseable_value"),
    ("follower_count", "1e3", "unparseable_value"),
    ("follower_count", "10.0", "unparseable_value"),
    ("follower_count", "0x10", "unparseable_value"),
    ("follower_count", "１０", "unparseable_value"),
    ("follower_count", "99999999999999999999", "unparseable_value"),
    ("follower_count", "007", None),
    ("follower_count", "-5", "negative_follower_count"),
    ("short_video_commerce_enabled", "TRUE", "unparseable_value"),
    ("short_video_commerce_enabled", "True", "unparseable_value"),
    ("short_video_commerce_enabled", "t", "unparseable_value"),
    ("short_video_commerce_enabled", "1", "unparseable_value"),
    ("short_video_commerce_enabled", "yes", "unparseable_value"),
    ("short_video_commerce_enabled", " true", "unparseable_value"),
    ("short_video_commerce_enabled", "false", None),
    ("account_type", "Merchant", "invalid_category"),
    ("account_type", " merchant", "invalid_category"),
]


def _row(values: dict[str, str]) -> str:
    return ",".join(values.values()) + "\n"


def test_csv_values_must_be_in_the_contracts_formats(con, tmp_path):
    good = dict(zip(HEADER.strip().split(","), GOOD.strip("\n").split(","), strict=True))
    rows = [
        {**good, "order_id": f"o{i}", column: value}
        for i, (column, value, _) in enumerate(ORDER_VALUES)
    ]
    write(tmp_path / "orders", "a.csv", HEADER + "".join(_row(r) for r in rows))
    load_dataset(con, ORDERS, tmp_path / "orders")
    got = dict(
        con.execute(
            "select source_row, reason || coalesce(':' || detail, '') from raw.orders_quarantine"
        ).fetchall()
    )
    for i, (column, value, reason) in enumerate(ORDER_VALUES):
        expected = (
            None
            if reason is None
            else (reason if reason == "non_positive_amount" else f"{reason}:{column}")
        )
        assert got.get(i + 1) == expected, (column, value)
    snapshots = [
        {**SNAPSHOT, "account_id": f"a{i}", column: value}
        for i, (column, value, _) in enumerate(SNAPSHOT_VALUES)
    ]
    write(
        tmp_path / "account_snapshots",
        "s.csv",
        SNAPSHOT_HEADER + "".join(_row(r) for r in snapshots),
    )
    load_dataset(con, DATASETS["account_snapshots"], tmp_path / "account_snapshots")
    got = dict(
        con.execute(
            "select source_row, reason || coalesce(':' || detail, '') "
            "from raw.account_snapshots_quarantine"
        ).fetchall()
    )
    for i, (column, value, reason) in enumerate(SNAPSHOT_VALUES):
        expected = (
            None
            if reason is None
            else (reason if reason == "negative_follower_count" else f"{reason}:{column}")
        )
        assert got.get(i + 1) == expected, (column, value)
    # what loaded is the value the text says
    assert con.execute(
        "select follower_count from raw.account_snapshots where account_id = ?",
        [f"a{SNAPSHOT_VALUES.index(('follower_count', '007', None))}"],
    ).fetchone() == (7,)


def test_parquet_columns_must_have_the_contracts_types(con, tmp_path):
    """Parquet is read typed: a column of another type than the contract's Arrow type is
    `unparseable_value` on every non-null row, even where a cast would succeed (an integer
    account id, an integer amount -- usually fen, not yuan --, a date for an instant)."""
    ts = pa.array([1763805600000000], pa.timestamp("us", tz="UTC"))
    good = {
        "order_id": pa.array(["p0"]),
        "updated_at": ts,
        "account_id": pa.array(["a1"]),
        "channel": pa.array(["short_video"]),
        "video_id": pa.array(["v1"]),
        "created_at": ts,
        "amount": pa.array([Decimal("12.34")], pa.decimal128(18, 2)),
        "refunded_amount": pa.array([Decimal("0.00")], pa.decimal128(18, 2)),
        "status": pa.array(["paid"]),
        "settled_at": pa.array([None], pa.timestamp("us", "UTC")),
    }
    cases = [
        ("account_id", pa.array([7], pa.int64()), "unparseable_value"),
        ("amount", pa.array([1234], pa.int64()), "unparseable_value"),
        ("amount", pa.array([Decimal("12.340")], pa.decimal128(18, 3)), None),
        ("amount", pa.array([Decimal("12.345")], pa.decimal128(18, 3)), "unparseable_value"),
        ("created_at", pa.array([20414], pa.date32()), "unparseable_value"),
        ("created_at", pa.array(["2025-11-22T10:00:00Z"]), None),
        ("created_at", pa.array([1763805600 * 10**9], pa.timestamp("ns", tz="UTC")), None),
        # a nanosecond instant the warehouse's microseconds cannot hold
        (
            "created_at",
            pa.array([1763805600 * 10**9 + 1500], pa.timestamp("ns", tz="UTC")),
            "unparseable_value",
        ),
        ("created_at", pa.array(["2025/11/22T10:00:00Z"]), "unparseable_value"),
        ("amount", pa.array(["12.34"]), None),
        ("amount", pa.array(["+12.34"]), "unparseable_value"),
    ]
    folder = tmp_path / "orders"
    folder.mkdir()
    for i, (column, values, _) in enumerate(cases):
        pq.write_table(
            pa.table({**good, "order_id": pa.array([f"p{i}"]), column: values}),
            folder / f"{i:02d}.parquet",
        )
    load_dataset(con, ORDERS, folder)
    quarantined = dict(
        con.execute(
            "select regexp_extract(source_file, '([0-9]+)\\.parquet', 1)::int, reason || ':' || "
            "detail from raw.orders_quarantine"
        ).fetchall()
    )
    for i, (column, _, reason) in enumerate(cases):
        assert quarantined.get(i) == (reason and f"{reason}:{column}"), cases[i]
    assert con.execute("select amount from raw.orders where order_id = 'p2'").fetchone() == (
        Decimal("12.34"),
    )

    snapshots = tmp_path / "account_snapshots"
    snapshots.mkdir()
    base = {
        "snapshot_date": pa.array([20414], pa.date32()),
        "account_id": pa.array(["a1"]),
        "account_type": pa.array(["merchant"]),
        "follower_count": pa.array([5], pa.int64()),
        "short_video_commerce_enabled": pa.array([True]),
        "is_shop_self_operated": pa.array([False]),
    }
    wrong = [
        ("snapshot_date", pa.array([1763805600000000], pa.timestamp("us", tz="UTC"))),
        ("follower_count", pa.array([Decimal("5")], pa.decimal128(18, 0))),
        ("short_video_commerce_enabled", pa.array([1], pa.int8())),
    ]
    for i, (column, values) in enumerate(wrong):
        pq.write_table(
            pa.table({**base, "account_id": pa.array([f"a{i}"]), column: values}),
            snapshots / f"{i}.parquet",
        )
    load_dataset(con, DATASETS["account_snapshots"], snapshots)
    assert sorted(
        con.execute("select detail, reason from raw.account_snapshots_quarantine").fetchall()
    ) == sorted((column, "unparseable_value") for column, _ in wrong)


def test_empty_dataset_folders_are_named_before_any_step_and_a_ui_step_says_the_same(tmp_path):
    """D55: a folder holding nothing the loader reads (only `_`/`.` names, D13, or a
    subfolder) stops `rewards run` before any step, naming every such folder; a run from the UI
    (which does not check first) fails the landing step of that folder with the same sentence,
    as a Dagster Failure, instead of DuckDB's `executemany requires a non-empty list`."""
    from dagster import materialize

    from orchestration.defs.landing.assets import build_landing_asset
    from orchestration.defs.landing.loader import check_landing
    from orchestration.defs.resources import EngineResource, LandingResource, WarehouseResource

    landing = tmp_path / "landing"
    write(landing / "account_snapshots", "s.csv", "anything\n")
    write(landing / "enrollments", "e.csv", "anything\n")
    write(landing / "orders", "_partial.csv", HEADER + GOOD)  # still being written
    write(landing / "orders", ".DS_Store", "x")
    (landing / "videos" / "archive").mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as refused:
        check_landing(landing)
    assert str(refused.value) == (
        f"landing directory {landing} has no file yet in folder(s): videos, orders (each "
        "needs at least one .csv or .parquet file; names starting with . or _ are skipped)"
    )

    result = materialize(
        [build_landing_asset(ORDERS)],
        resources={
            "landing": LandingResource(path=str(landing)),
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "engine": EngineResource(),  # the embedded DuckDB warehouse
        },
        raise_on_error=False,
    )
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.user_failure_data.description == (
        f"landing directory {landing} has no file yet in folder(s): orders (each needs at "
        "least one .csv or .parquet file; names starting with . or _ are skipped)"
    )
