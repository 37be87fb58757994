"""The landing contract, fuzzed (issue 14): Hypothesis writes rows of every dataset -- valid
values, every documented violation and the lenient near-misses DuckDB's casts would accept --
as CSV and as Parquet (string columns, or the contract's Arrow types where every value allows),
loads them with the real loader, and checks each row against `Contract`, an independent
plain-Python reading of docs/data-contract.md:

* a row is loaded with exactly the values that reading gives, or quarantined with the reason
  (and column) it predicts; never both, never neither (an exact duplicate of a keyed row is
  collapsed into the first, and counted);
* the load never crashes.

CI runs a modest number of examples (about a minute in all). For a longer local run:
`python3 -m uv run pytest tests/test_contract_fuzz.py --hypothesis-profile=long` (docs/quality.md).
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestration.contract import DATASETS
from orchestration.defs.landing.loader import load_dataset

# ---------------------------------------------------------------------------------------------
# The contract, read from docs/data-contract.md by hand (not from contract.py or the loader)

_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<h>[0-9]{2}):(?P<m>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
)
_LOCAL_SPACE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
)
MONEY_LIMIT = Decimal(10) ** 16  # decimal(18, 2)
INT_LIMIT = 2**63  # bigint


class Bad(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _clock_ok(h: str, m: str, s: str | None) -> bool:
    return int(h) <= 23 and int(m) <= 59 and (s is None or int(s) <= 59)


def read_timestamp(text: str) -> datetime:
    match = _INSTANT.fullmatch(text)
    local_space = _LOCAL_SPACE.fullmatch(text)
    if match is None and local_space is None:
        raise Bad("unparseable_value")
    if local_space is not None:  # a local time, space-separated: valid only as a local time
        day, clock = text.split(" ")
        parts = clock.split(":")
        seconds = parts[2].split(".")[0] if len(parts) > 2 else None
        _calendar(day)
        if not _clock_ok(parts[0], parts[1], seconds):
            raise Bad("unparseable_value")
        raise Bad("timestamp_without_zone")
    day = _calendar(match["date"])
    if not _clock_ok(match["h"], match["m"], match["s"]):
        raise Bad("unparseable_value")
    fraction = match["f"] or ""
    if len(fraction) > 6 and set(fraction[6:]) != {"0"}:
        raise Bad("unparseable_value")  # finer than the microseconds the warehouse keeps
    zone = match["zone"]
    if zone is None:
        raise Bad("timestamp_without_zone")
    if zone != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        raise Bad("unparseable_value")
    micros = int((fraction + "000000")[:6])
    offset = (
        0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
    )
    naive = datetime(
        day.year, day.month, day.day, int(match["h"]), int(match["m"]), int(match["s"] or 0), micros
    )
    return (naive - timedelta(minutes=offset)).replace(tzinfo=UTC)


def _calendar(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Bad("unparseable_value") from None


def read_date(text: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise Bad("unparseable_value")
    return _calendar(text)


def read_integer(text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text) or abs(int(text)) >= INT_LIMIT:
        raise Bad("unparseable_value")
    return int(text)


def read_money(text: str) -> Decimal:
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", text) or abs(Decimal(text)) >= MONEY_LIMIT:
        raise Bad("unparseable_value")
    return Decimal(text).quantize(Decimal("0.01"))


def read_boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise Bad("unparseable_value")
    return text == "true"


READ = {
    "timestamp": read_timestamp,
    "date": read_date,
    "integer": read_integer,
    "money": read_money,
    "boolean": read_boolean,
    "string": str,
}


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    required: bool = True
    accepted: tuple[str, ...] = ()


def _lt(a, b) -> bool:
    return a is not None and b is not None and a < b


CONTRACT: dict[str, dict] = {
    "account_snapshots": {
        "columns": [
            Col("snapshot_date", "date"),
            Col("account_id", "string"),
            Col("account_type", "string", accepted=("merchant", "promoter")),
            Col("follower_count", "integer"),
            Col("short_video_commerce_enabled", "boolean"),
            Col("is_shop_self_operated", "boolean"),
        ],
        "rules": [("negative_follower_count", lambda r: _lt(r["follower_count"], 0))],
        "key": ("account_id", "snapshot_date"),
    },
    "enrollments": {
        "columns": [
            Col("account_id", "string"),
            Col("enrolled_at", "timestamp"),
            Col("enrolled_via", "string", accepted=("shop_account", "channels_account")),
        ],
        "rules": [],
        "key": (),
    },
    "videos": {
        "columns": [
            Col("video_id", "string"),
            Col("account_id", "string"),
            Col("published_at", "timestamp"),
            Col("is_commerce", "boolean"),
            Col("deleted_at", "timestamp", required=False),
        ],
        "rules": [("deleted_before_published", lambda r: _lt(r["deleted_at"], r["published_at"]))],
        "key": ("video_id",),
    },
    "orders": {
        "columns": [
            Col("order_id", "string"),
            Col("updated_at", "timestamp"),
            Col("account_id", "string"),
            Col("channel", "string", accepted=("short_video", "live", "showcase", "other")),
            Col("video_id", "string", required=False),
            Col("created_at", "timestamp"),
            Col("amount", "money"),
            Col("refunded_amount", "money"),
            Col("status", "string", accepted=("paid", "settled", "refunded", "cancelled")),
            Col("settled_at", "timestamp", required=False),
        ],
        "rules": [
            ("non_positive_amount", lambda r: r["amount"] <= 0),
            (
                "refund_out_of_range",
                lambda r: r["refunded_amount"] < 0 or r["refunded_amount"] > r["amount"],
            ),
            (
                "settled_without_settled_at",
                lambda r: r["status"] == "settled" and r["settled_at"] is None,
            ),
            ("settled_before_created", lambda r: _lt(r["settled_at"], r["created_at"])),
            (
                "short_video_without_video_id",
                lambda r: r["channel"] == "short_video" and r["video_id"] is None,
            ),
            (
                "video_id_on_other_channel",
                lambda r: r["channel"] != "short_video" and r["video_id"] is not None,
            ),
        ],
        "key": (),
    },
}


def expected_row(dataset: str, row: dict[str, str | None]) -> tuple[str, str | None] | dict:
    """The contract's reading of one row: its typed values, or (reason, column)."""
    spec = CONTRACT[dataset]
    typed = {}
    for col in spec["columns"]:
        text = row[col.name]
        if text is None:
            if col.required:
                return ("missing_required_value", col.name)
            typed[col.name] = None
            continue
        try:
            typed[col.name] = READ[col.kind](text)
        except Bad as bad:
            return (bad.reason, col.name)
        if col.accepted and text not in col.accepted:
            return ("invalid_category", col.name)
    for reason, broken in spec["rules"]:
        if broken(typed):
            return (reason, None)
    return typed


def expected_load(dataset: str, rows: list[dict]) -> tuple[dict[int, dict], dict[int, tuple], int]:
    """Row number (1-based) -> loaded values, row number -> (reason, detail), and the number of
    exact duplicates collapsed (keyed datasets: different rows sharing a key are all
    quarantined; identical ones are kept once, the first)."""
    loaded, quarantined = {}, {}
    for number, row in enumerate(rows, start=1):
        result = expected_row(dataset, row)
        if isinstance(result, dict):
            loaded[number] = result
        else:
            quarantined[number] = result
    key = CONTRACT[dataset]["key"]
    collapsed = 0
    if key:
        groups: dict[tuple, list[int]] = {}
        for number, values in loaded.items():
            groups.setdefault(tuple(values[k] for k in key), []).append(number)
        for numbers in groups.values():
            distinct = {tuple(sorted(loaded[n].items())) for n in numbers}
            if len(distinct) > 1:
                for n in numbers:
                    del loaded[n]
                    quarantined[n] = ("duplicate_key", ", ".join(key))
            else:
                for n in numbers[1:]:
                    del loaded[n]
                    collapsed += 1
    return loaded, quarantined, collapsed


# ---------------------------------------------------------------------------------------------
# Values: valid, documented violations, near-misses


def _instants():
    offsets = st.sampled_from(["Z", "+08:00", "-05:30", "+00:00", "+14:00"])
    fractions = st.sampled_from(["", ".5", ".123456", ".120000000"])
    return st.builds(
        lambda moment, zone, fraction, seconds: (
            moment.strftime("%Y-%m-%dT%H:%M")
            + (moment.strftime(":%S") + fraction if seconds else "")
            + zone
        ),
        st.datetimes(min_value=datetime(2025, 7, 1), max_value=datetime(2026, 2, 28)),
        offsets,
        fractions,
        st.booleans(),
    )


TIMESTAMP_MISSES = [
    "2025/12/01T04:00:00Z",
    "2025-12-01 04:00:00Z",
    "2025-12-01T04:00:00z",
    "2025-12-01T04:00:00+0800",
    "2025-12-01T04:00:00+08",
    "2025-12-01T04:00:00 UTC",
    "2025-12-01T04:00:00.1234567Z",
    "2025-12-01T24:00:00Z",
    "2025-12-01T04:00:00+25:00",
    "2025-02-30T04:00:00Z",
    "2025-12-01",
    " 2025-12-01T04:00:00Z",
    "2025-12-01T04:00:00Z ",
    "２０２５-12-01T04:00:00Z",
    "2025-12-01T04:00:60Z",
    "20251201T040000Z",
    "yesterday",
    "2025-12-01T04:00:00",
    "2025-12-01 04:00",
    "2025-12-01T04:00:00.5",
    "2025-13-01 04:00",
]
DATE_MISSES = [
    "2025/12/01",
    "2025-12-1",
    "20251201",
    "2025-12-01T00:00:00Z",
    "2025-02-29",
    " 2025-12-01",
    "２０２５-12-01",
    "2025-00-10",
]
INTEGER_MISSES = [
    "+5",
    "1_000",
    " 10",
    "10 ",
    "1e3",
    "10.0",
    "0x10",
    "１０",
    "--1",
    "99999999999999999999",
    "five",
]
MONEY_MISSES = [
    "+10.00",
    " 10.00",
    "10.00 ",
    "1_000.00",
    "1e3",
    "10.",
    ".5",
    "10.005",
    "１０.00",
    "1,000.00",
    "¥10",
    "NaN",
    "Infinity",
    "99999999999999999.00",
]
BOOLEAN_MISSES = ["TRUE", "True", "t", "f", "1", "0", "yes", " true", "false "]


VALID = {
    "timestamp": _instants(),
    "date": st.dates(date(2025, 7, 1), date(2026, 2, 28)).map(str),
    "integer": st.integers(0, 200_000).map(str),
    "money": st.one_of(
        st.decimals(Decimal("0.01"), Decimal("500"), places=2).map(lambda d: f"{d:f}"),
        st.sampled_from(["10", "10.5", "007.10"]),
    ),
    "boolean": st.sampled_from(["true", "false"]),
}
MISSES = {
    "timestamp": TIMESTAMP_MISSES,
    "date": DATE_MISSES,
    "integer": INTEGER_MISSES + ["-5"],
    "money": MONEY_MISSES + ["0.00", "-1.00", "0", "600.00"],
    "boolean": BOOLEAN_MISSES,
}
POOL = ["a1", "a2", "v1", "v2", "k,1", 'q"1', "中文"]
STRING_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))


def _valid(col: Col):
    if col.accepted:
        return st.sampled_from(col.accepted)
    if col.kind == "string":
        return st.one_of(st.sampled_from(POOL), st.text(STRING_CHARS, min_size=1, max_size=6))
    return VALID[col.kind]


def _damaged(col: Col):
    """A value that breaks the column's format, its accepted values, or (null) its presence."""
    if col.accepted:
        misses = [col.accepted[0].upper(), " " + col.accepted[0], col.accepted[-1] + " ", "x"]
    elif col.kind == "string":
        misses = ["a1"]  # any text is a string: only null breaks it
    else:
        misses = MISSES[col.kind]
    return st.one_of(st.none(), st.sampled_from(misses))


@st.composite
def landing_row(draw, dataset: str) -> dict[str, str | None]:
    """A row that keeps the contract, then 0-2 of its values damaged: each near-miss is then
    often what decides the row's fate."""
    columns = CONTRACT[dataset]["columns"]
    row = {c.name: draw(_valid(c)) for c in columns}
    if dataset == "orders":  # mostly consistent across fields, so the rules are reached
        row["video_id"] = draw(st.sampled_from(POOL)) if row["channel"] == "short_video" else None
        row["refunded_amount"] = draw(st.sampled_from(["0.00", "0", row["amount"]]))
        row["settled_at"] = (
            draw(st.one_of(st.none(), VALID["timestamp"]))
            if (row["status"] != "settled")
            else draw(st.sampled_from([row["created_at"], row["updated_at"]]))
        )
    if dataset == "videos":
        row["deleted_at"] = draw(st.one_of(st.none(), st.none(), VALID["timestamp"]))
    for _ in range(draw(st.integers(0, 2))):
        col = draw(st.sampled_from(columns))
        row[col.name] = draw(_damaged(col))
    return row


@st.composite
def landing_rows(draw, dataset: str) -> list[dict[str, str | None]]:
    rows = draw(st.lists(landing_row(dataset), min_size=20, max_size=80))
    # exact repeats of earlier rows: keyed datasets collapse them
    for _ in range(draw(st.integers(0, 3))):
        rows.insert(
            draw(st.integers(0, len(rows))), dict(rows[draw(st.integers(0, len(rows) - 1))])
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Files

ARROW = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "integer": pa.int64(),
    "money": pa.decimal128(18, 2),
    "boolean": pa.bool_(),
}


def write_csv(path: Path, dataset: str, rows: list[dict]) -> None:
    names = [c.name for c in CONTRACT[dataset]["columns"]]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([["" if row[n] is None else row[n] for n in names] for row in rows])


def write_parquet(path: Path, dataset: str, rows: list[dict], typed: bool) -> None:
    """String columns; with `typed`, a column whose every value reads as its kind is written
    in the contract's Arrow type instead."""
    arrays = {}
    for col in CONTRACT[dataset]["columns"]:
        texts = [row[col.name] for row in rows]
        values = None
        if typed and col.kind != "string":
            try:
                values = [None if t is None else READ[col.kind](t) for t in texts]
            except Bad:
                values = None
        arrays[col.name] = (
            pa.array(texts, pa.string()) if values is None else pa.array(values, ARROW[col.kind])
        )
    pq.write_table(pa.table(arrays), path)


def check_load(dataset: str, rows: list[dict], file_format: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / dataset
        folder.mkdir()
        path = folder / f"fuzz.{'csv' if file_format == 'csv' else 'parquet'}"
        if file_format == "csv":
            write_csv(path, dataset, rows)
        else:
            write_parquet(path, dataset, rows, typed=file_format == "typed_parquet")
        con = duckdb.connect()
        try:
            result = load_dataset(con, DATASETS[dataset], folder)  # never raises
            names = [c.name for c in CONTRACT[dataset]["columns"]]
            got_loaded = {
                r[0]: dict(zip(names, r[1:], strict=True))
                for r in con.execute(
                    f"select _source_row, {', '.join(names)} from raw.{dataset}"
                ).fetchall()
            }
            got_quarantined = {}
            for number, reason, detail in con.execute(
                f"select source_row, reason, detail from raw.{dataset}_quarantine"
            ).fetchall():
                assert number not in got_quarantined, f"row {number} quarantined twice"
                got_quarantined[number] = (reason, detail)
        finally:
            con.close()
    loaded, quarantined, collapsed = expected_load(dataset, rows)
    for number, row in enumerate(rows, start=1):
        assert not (number in got_loaded and number in got_quarantined), (
            f"row {number} both loaded and quarantined: {row}"
        )
        if number in quarantined:
            assert got_quarantined.get(number) == quarantined[number], (number, row)
        elif number in loaded:
            assert got_loaded.get(number) == loaded[number], (number, row)
        else:  # an exact duplicate, collapsed into an earlier row
            assert number not in got_loaded and number not in got_quarantined, (number, row)
    assert result.exact_duplicates_collapsed == collapsed


@pytest.mark.parametrize("file_format", ["csv", "parquet", "typed_parquet"])
@pytest.mark.parametrize("dataset", list(CONTRACT))
def test_every_landed_row_is_loaded_as_the_contract_reads_it_or_quarantined(dataset, file_format):
    @given(landing_rows(dataset))
    def check(rows):
        check_load(dataset, rows, file_format)

    check()


def test_the_fuzzers_reading_agrees_with_hand_picked_cases():
    """The independent reading itself, on values whose answers are worked out by hand."""
    assert read_timestamp("2025-11-22T00:30:00+08:00") == datetime(2025, 11, 21, 16, 30, tzinfo=UTC)
    assert read_timestamp("2025-11-22T10:00:00.123456000Z").microsecond == 123456
    for text, reason in [
        ("2025/12/01T04:00:00Z", "unparseable_value"),
        ("2025-12-01T04:00:00", "timestamp_without_zone"),
        ("2025-12-01 04:00", "timestamp_without_zone"),
        ("2025-12-01 04:00Z", "unparseable_value"),
    ]:
        with pytest.raises(Bad) as bad:
            read_timestamp(text)
        assert bad.value.reason == reason, text
    assert read_money("0010.5") == Decimal("10.50")
    assert expected_row(
        "orders",
        {
            "order_id": "o",
            "updated_at": "2025-12-01T00:00:00Z",
            "account_id": "a",
            "channel": "live",
            "video_id": "v",
            "created_at": "2025-12-01T00:00:00Z",
            "amount": "10",
            "refunded_amount": "0",
            "status": "paid",
            "settled_at": None,
        },
    ) == ("video_id_on_other_channel", None)
