"""The serving copy: a read-only DuckDB file of the marts that finance reads while runs write.

DuckDB takes one writer per file, and a reader of the warehouse would both block a run and could
see half of one. So after every successful run (every blocking check passed), the Dagster asset
`serving/finance_copy` writes the marts into a new file beside the warehouse and renames it over
the previous copy (`os.replace`: atomic on one filesystem). Readers open the copy read-only:
they see the last good run whole, a reader that opened the old file keeps reading it after the
swap, and a failed or killed run never reaches the swap, so the copy is left as it was.

The copy also records what it was built from (`serving.build`: Dagster run, time, code version,
rule vars) and every landing file in the raw tables with its SHA-256 (`serving.input_files`);
`rewards publish` copies both into the payout run it writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from ..settings import REPO_ROOT

# The marts copied, in the order written; reward_order_lines is a view in the warehouse and
# becomes a table here.
SERVED_MARTS = ("account_rewards", "account_eligibility", "reward_order_lines", "video_quota",
                "program_summary", "quarantine", "reconciliation")

LOCK_RETRY_SECONDS = 30.0


class NoServingCopy(Exception):
    """No successful run has produced the serving copy yet."""


@dataclass(frozen=True)
class BuildInfo:
    dagster_run_id: str
    built_at: str
    code_version: str
    rule_vars: dict[str, Any]


def code_version() -> str:
    """The git commit of the code (with `-dirty` for uncommitted changes), else the package
    version: what a payout run records as the code that computed it."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version

    return "short-video-rewards " + version("short-video-rewards")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _input_files(warehouse: duckdb.DuckDBPyConnection, previous: Path,
                 log: Callable[[str], None]) -> list[tuple]:
    """Every landing file in the raw tables with its SHA-256. Files whose size and modification
    time are those the previous copy hashed keep that hash (a daily run hashes only its new
    files); a file changed since it was loaded fails the copy: it is not what the marts say."""
    files = warehouse.execute(
        "select dataset, file, size_bytes, mtime_ns, rows_read, rows_quarantined "
        "from built_warehouse.raw.load_files order by dataset, file").fetchall()
    known: dict[tuple, str] = {}
    if previous.exists():
        with contextlib.suppress(duckdb.Error):
            con = duckdb.connect(str(previous), read_only=True)
            try:
                known = {(f, s, m): h for f, s, m, h in con.execute(
                    "select file, size_bytes, mtime_ns, sha256 from serving.input_files")
                    .fetchall()}
            finally:
                con.close()
    rows, hashed, started = [], 0, time.monotonic()
    for dataset, file, size, mtime, rows_read, rows_quarantined in files:
        path = Path(file)
        stat = path.stat() if path.exists() else None
        if stat is None or (stat.st_size, stat.st_mtime_ns) != (size, mtime):
            raise RuntimeError(
                f"landing file {file} changed or vanished after it was loaded; run again so the "
                "marts and their recorded inputs agree")
        digest = known.get((file, size, mtime))
        if digest is None:
            digest = _sha256(path)
            hashed += 1
        rows.append((dataset, file, size, mtime, rows_read, rows_quarantined, digest))
    log(f"input files: {len(rows)} ({hashed} hashed in {time.monotonic() - started:.1f}s, "
        "the rest unchanged since the previous copy)")
    return rows


def build_serving_copy(warehouse: Path, target: Path, *, dagster_run_id: str,
                       rule_vars: dict[str, Any], duckdb_config: dict[str, Any] | None = None,
                       log: Callable[[str], None] = print) -> dict[str, int]:
    """Write the marts of `warehouse` into a new file and swap it in as `target`; returns rows
    per mart. Nothing is swapped unless the whole copy was written and checkpointed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(target.name + ".tmp-*"):  # from a killed run
        stale.unlink()
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    counts: dict[str, int] = {}
    con = duckdb.connect(str(tmp), config=duckdb_config or {})
    try:
        con.execute("set enable_progress_bar = false")
        con.execute("attach ? as built_warehouse (read_only)", [str(warehouse)])
        con.execute("create schema marts")
        for name in SERVED_MARTS:
            started = time.monotonic()
            con.execute(f"create table marts.{name} as select * from built_warehouse.marts.{name}")
            counts[name] = con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            log(f"marts.{name}: {counts[name]:,} rows in {time.monotonic() - started:.1f}s")
        inputs = _input_files(con, target, log)
        con.execute("create schema serving")
        con.execute("create table serving.build (dagster_run_id varchar, built_at varchar, "
                    "code_version varchar, rule_vars varchar)")
        con.execute("insert into serving.build values (?, ?, ?, ?)",
                    [dagster_run_id, local_now(rule_vars["timezone"]), code_version(),
                     json.dumps(rule_vars, sort_keys=True)])
        con.execute("create table serving.input_files (dataset varchar, file varchar, "
                    "size_bytes bigint, mtime_ns bigint, rows_read bigint, "
                    "rows_quarantined bigint, sha256 varchar)")
        if inputs:
            con.executemany("insert into serving.input_files values (?, ?, ?, ?, ?, ?, ?)",
                            inputs)
        con.execute("detach built_warehouse")
        con.execute("checkpoint")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    _fsync(tmp)
    os.replace(tmp, target)  # the swap: readers see the old copy or this one, never a part
    _fsync(target.parent)
    return counts


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def retry_while_locked(open_: Callable[[], Any], what: str,
                       seconds: float = LOCK_RETRY_SECONDS) -> Any:
    """Open a DuckDB file another process may be writing for a moment (the ledger during a
    publish): retry on its lock for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise RuntimeError(f"{what} is locked by another process: {exc}") from exc
            time.sleep(0.2)


@contextlib.contextmanager
def open_serving_copy(serving_copy: Path, ledger: Path | None = None
                      ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The last good marts, read-only, with the ledger attached as `payouts` when it exists
    (`payouts.ledger.entries`, `payouts.ledger.payout_runs`)."""
    if not serving_copy.exists():
        raise NoServingCopy(
            f"no serving copy at {serving_copy}: it is written after a successful run "
            "(`rewards run`, or Materialize all in the Dagster UI)")
    con = _connect_read_only(serving_copy)
    try:
        con.execute("set enable_progress_bar = false")
        # instants read and written in the programme's timezone (Beijing, R1)
        con.execute(f"set TimeZone = '{read_build_info(con).rule_vars['timezone']}'")
        if ledger is not None and ledger.exists():
            retry_while_locked(
                lambda: con.execute("attach ? as payouts (read_only)", [str(ledger)]),
                f"the ledger {ledger}")
        yield con
    finally:
        con.close()


def local_now(timezone: str) -> str:
    """Now, ISO-8601 with the offset of the programme's timezone (Beijing, R1)."""
    return datetime.now(ZoneInfo(timezone)).isoformat(timespec="seconds")


def read_build_info(con: duckdb.DuckDBPyConnection) -> BuildInfo:
    run_id, built_at, version, rule_vars = con.execute(
        "select dagster_run_id, built_at, code_version, rule_vars from serving.build").fetchone()
    return BuildInfo(run_id, built_at, version, json.loads(rule_vars))


def has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from duckdb_databases() where database_name = "
                            "'payouts'").fetchone()[0])
