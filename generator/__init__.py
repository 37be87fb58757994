"""Synthetic landing data for the short-video incentive plan: realistic, deterministic and fast.

Why a generator: the warehouse has to be exercised at production scale (10M orders) and on every
edge the rulebook names -- Beijing-midnight boundaries (R1), order change logs (R2), late and
partial settlements (R3), over-quota posting days (R6), new entrants (R8) and each ineligibility
reason (R10) -- without real merchant data. `generate_landing` writes one landing directory in
the data contract's format; with `dirty=True` it also writes rows that each break exactly one
rule, and records how many quarantine rows the pipeline must report per reason (R12).

Design choices:
* Everything is drawn from one seeded numpy Generator in a fixed order, and Parquet is written
  with fixed options, so the same arguments give byte-identical files.
* Work is vectorised numpy over whole datasets; ids are formatted into Arrow string buffers
  directly; the orders change log is held as compact integer arrays and only turned into Arrow
  tables one output file (one Beijing day) at a time, which keeps 10M orders well under 2 GB.
* The dates come from the rule vars (dbt_project.yml's, or the caller's): `Calendar` anchors the
  generator's world on them, so a changed `campaign_start` moves every boundary case with it.
  The vocabularies come from the data contract (orchestration/contract.py).
* One module per part: calendar, vocabulary, arrays (helpers), accounts (with snapshots),
  videos, orders, dirty; this module writes the landing directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from orchestration.rule_vars import rule_var_defaults

from .accounts import Accounts, enrollment_rows, make_accounts, snapshot_table
from .arrays import Progress, id_width, month_groups, write_csv, write_parquet
from .calendar import Calendar, day_of
from .dirty import Dirty, make_dirty
from .orders import change_log, make_orders, write_orders
from .videos import Videos, make_videos, video_table
from .vocabulary import COLUMNS, DATASETS

DIRTY_FILES = {
    "account_snapshots": "snapshots_dirty.csv",
    "enrollments": "enrollments_dirty.csv",
    "videos": "videos_dirty.csv",
    "orders": "orders_dirty.csv",
}
CLEAN_FILES = {
    "account_snapshots": "snapshots_*.parquet",
    "enrollments": "enrollments.csv",
    "videos": "videos_*.parquet",
    "orders": "orders_*.parquet",
}


@dataclass
class Tally:
    """Rows and files written per dataset, for the manifest."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))

    def add(self, dataset: str, rows: int, files: int = 1) -> None:
        self.rows[dataset] += rows
        self.files[dataset] += files


def _prepare(out_dir: Path) -> None:
    """Create the dataset folders and remove files an earlier run of this generator wrote, so a
    clean run over a dirty one leaves no stale rows (other files are left alone)."""
    for dataset in DATASETS:
        folder = out_dir / dataset
        folder.mkdir(parents=True, exist_ok=True)
        for glob in (CLEAN_FILES[dataset], DIRTY_FILES[dataset]):
            for path in folder.glob(glob):
                path.unlink()


def _write_accounts(
    cal: Calendar, rng: np.random.Generator, acc: Accounts, out_dir: Path, tally: Tally
) -> None:
    """Snapshots as one Parquet file per month, enrollments as one CSV."""
    snapshots = snapshot_table(cal, rng, acc)
    days = np.asarray(snapshots.column("snapshot_date").cast(pa.int32()))
    for month, rows in month_groups(days):
        path = out_dir / "account_snapshots" / f"snapshots_{month}.parquet"
        write_parquet(snapshots.take(rows), path)
        tally.add("account_snapshots", len(rows))
    enrollments = enrollment_rows(rng, acc)
    write_csv(out_dir / "enrollments" / "enrollments.csv", COLUMNS["enrollments"], enrollments)
    tally.add("enrollments", len(enrollments))


def _write_videos(videos: Videos, n_accounts: int, out_dir: Path, tally: Tally) -> None:
    """One Parquet file per Beijing month of publication."""
    for month, rows in month_groups(day_of(videos.published)):
        path = out_dir / "videos" / f"videos_{month}.parquet"
        write_parquet(video_table(videos, rows, n_accounts), path)
        tally.add("videos", len(rows))


def _write_dirty(dirt: Dirty, out_dir: Path, tally: Tally) -> None:
    for dataset, rows in dirt.rows.items():
        write_csv(out_dir / dataset / DIRTY_FILES[dataset], COLUMNS[dataset], rows)
        tally.add(dataset, len(rows))


def generate_landing(
    out_dir: Path,
    n_orders: int = 100_000,
    seed: int = 7,
    dirty: bool = False,
    progress: Progress | None = None,
    rule_vars: Mapping[str, Any] | None = None,
) -> dict:
    """Write a synthetic landing directory (data contract format) and return its manifest.

    `n_orders` clean orders (~2 change-log rows each) over max(50, n_orders // 2000) accounts.
    With `dirty`, extra CSV rows each break exactly one rule; the manifest's
    `expected_quarantine` says how many quarantine rows each reason must produce. The clean
    part of a dirty landing is the clean landing of the same seed (a few rows moved to the
    CSV). `progress(stage, done, total)` is called per stage and per orders file. The data
    straddle the dates of `rule_vars` (dbt_project.yml's by default: Calendar).
    """
    if n_orders < 1:
        raise ValueError(f"n_orders must be positive, got {n_orders}")
    out_dir = Path(out_dir)
    cal = Calendar.from_rule_vars(rule_vars or rule_var_defaults())
    rng = np.random.default_rng(seed)
    report = progress or (lambda stage, done, total: None)
    _prepare(out_dir)
    tally = Tally()

    acc = make_accounts(cal, rng, max(50, n_orders // 2000))
    _write_accounts(cal, rng, acc, out_dir, tally)
    report("accounts", 1, 1)
    videos = make_videos(cal, rng, acc, max(300, n_orders // 12))
    _write_videos(videos, acc.n, out_dir, tally)
    report("videos", 1, 1)

    orders = make_orders(cal, rng, acc, videos, n_orders)
    log = change_log(cal, rng, orders)
    widths = {
        "acct-": id_width("acct-", acc.n),
        "vid-": id_width("vid-", videos.n),
        "ord-": id_width("ord-", n_orders),
    }
    dirt, extras = Dirty(), {}
    if dirty:  # before writing orders: it moves some clean rows out of the day files
        dirt, extras = make_dirty(cal, rng, n_orders, acc, videos, orders, log, widths)
    files, rows = write_orders(out_dir / "orders", orders, log, widths, report)
    tally.add("orders", rows, files)
    if dirty:
        _write_dirty(dirt, out_dir, tally)
        report("dirty", 1, 1)

    manifest = {
        "generator": "generator",
        "seed": seed,
        "n_orders": n_orders,
        "dirty": dirty,
        "accounts": acc.n,
        "rows": tally.rows,
        "files": tally.files,
        "expected_quarantine": dict(sorted(dirt.expected.items())),
        **extras,
    }
    (out_dir / "_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
