"""Small helpers: random times of day, ids and typed Arrow arrays, Parquet and CSV writers."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .calendar import BEIJING, DAY, HOUR_P, fmt_day
from .vocabulary import ID_WIDTH, MONEY, TS

# progress(stage, done, total), called per stage and per orders file
Progress = Callable[[str, int, int], None]


def time_of_day(rng: np.random.Generator, n: int, midnight_share: float) -> np.ndarray:
    """Seconds after Beijing midnight: evening-peaked, with a share within 90 s of midnight
    (either side) so day assignment (R1) is exercised everywhere."""
    tod = rng.choice(24, n, p=HOUR_P) * 3600 + rng.integers(0, 3600, n)
    near = rng.random(n) < midnight_share
    late = rng.random(n) < 0.5
    jitter = rng.integers(0, 90, n)
    tod = np.where(near & late, DAY - 1 - jitter, np.where(near, jitter, tod))
    return tod.astype(np.int64)


def log_uniform(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high)))


def id_width(prefix: str, largest: int) -> int:
    return max(ID_WIDTH[prefix], len(str(largest)))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """`prefix` + zero-padded `numbers`, built straight into an Arrow buffer (no Python loop)."""
    n = len(numbers)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    buf = np.empty((n, len(head) + width), dtype=np.uint8)
    buf[:, : len(head)] = head
    buf[:, len(head) :] = (numbers.astype(np.int64)[:, None] // powers) % 10 + ord("0")
    offsets = np.arange(0, (n + 1) * buf.shape[1], buf.shape[1], dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def nullable(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """`values` with nulls where `valid` is false."""
    if valid.all():
        return values
    return pa.Array.from_buffers(
        values.type, len(values), [pa.array(valid).buffers()[1], *values.buffers()[1:]]
    )


def money(cents: np.ndarray) -> pa.Array:
    """decimal128(18,2) from integer cents, exact (money never passes through floats)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension into the high 64 bits
    return pa.Array.from_buffers(MONEY, len(cents), [None, pa.py_buffer(words)])


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=TS, mask=mask)


def categories(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(names).take(pa.array(codes.astype(np.int32)))


def write_parquet(table: pa.Table, path: Path) -> None:
    """Fixed writer options: same table -> same bytes."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        row_group_size=1 << 20,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
    )


def fmt_ts(seconds: int, beijing: bool) -> str:
    """ISO-8601 instant for CSV, as UTC `Z` or with the `+08:00` offset."""
    if beijing:
        return datetime.fromtimestamp(int(seconds), BEIJING).isoformat()
    moment = datetime.fromtimestamp(int(seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def month_groups(days: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(`YYYY-MM`, row indices) per Beijing month of `days`, in calendar order."""
    months = np.array([fmt_day(d)[:7] for d in range(int(days.min()), int(days.max()) + 1)])
    labels = months[days - days.min()]
    for month in np.unique(labels):
        yield str(month), np.flatnonzero(labels == month)
