"""Writing the serving copy, a read-only DuckDB file of the marts that finance reads while runs
write: the warehouse job's side (finance's reading side: orchestration/finance/serving.py).

DuckDB takes one writer per file, and a reader of the warehouse would both block a run and could
see half of one. So after every successful run (every blocking check passed), the Dagster asset
`serving/finance_copy` writes the marts into a new file beside the warehouse and renames it over
the previous copy (`os.replace`: atomic on one filesystem). Readers open the copy read-only:
they see the last good run whole, a reader that opened the old file keeps reading it after the
swap, and a failed or killed run never reaches the swap, so the copy is left as it was.

The copy also records what it was built from (`serving.build`: Dagster run, time, code version,
rule vars) and every landing file in the raw tables with its SHA-256 (`serving.input_files`);
`rewards publish` copies both into the payout run it writes.

A daily run must not rewrite every order line of the programme (D29). So the copy alternates
between two files, `<copy>.a` and `<copy>.b`, and `<copy>` is a symbolic link to the current one:
a run brings the other one up to date -- the small marts whole, the order lines of the orders it
changed -- in one DuckDB transaction, then swaps the link (`os.replace`, atomic). That file is
two runs behind, so it takes both runs' changes (the second run starts it as a file copy of the
first). A killed run leaves the link, and the file it points to, as they were. Every other mart
is rewritten whole by every run, so it always has the warehouse's column types; the order lines
are updated in place only while their columns and types are the warehouse's (D60).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from ...duckdb_transaction import transaction
from ...serving_layout import SERVED_MARTS, local_now
from ...settings import REPO_ROOT
from ..landing import bookkeeping


def code_version() -> str:
    """The git commit of the code (with `-dirty` for uncommitted changes), else the package
    version: what a payout run records as the code that computed it."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version

    return "short-video-rewards " + version("short-video-rewards")


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _input_files(
    warehouse: duckdb.DuckDBPyConnection, previous: Path, log: Callable[[str], None]
) -> list[tuple]:
    """Every landing file in the raw tables with its SHA-256. A local file must still have the
    size and modification time it was loaded with (else it changed or vanished since, and is not
    what the marts say: the copy fails); its digest is the one the Spark loader recorded, or the
    previous copy's for the same fingerprint, or hashed here (a daily run hashes only its new
    files). A file no local path reaches (a URI: a lake landing read by a Spark cluster, D99)
    takes the digest its load recorded as the cluster read it."""
    files = bookkeeping.input_files(warehouse, "built_warehouse")
    known: dict[tuple, str] = {}
    if previous.exists():
        with contextlib.suppress(duckdb.Error):
            con = duckdb.connect(str(previous), read_only=True)
            try:
                known = {
                    (f, s, m): h
                    for f, s, m, h in con.execute(
                        "select file, size_bytes, mtime_ns, sha256 from serving.input_files"
                    ).fetchall()
                }
            finally:
                con.close()
    rows, hashed, started = [], 0, time.monotonic()
    for dataset, file, size, mtime, rows_read, rows_quarantined, recorded in files:
        if is_uri(file):
            if recorded is None:
                raise RuntimeError(
                    f"landing file {file} is not on this machine and its load recorded no "
                    "SHA-256 (an earlier version loaded it); load the landing again (a full "
                    "load: a new folder, or the raw tables dropped) so the copy can name it"
                )
            rows.append((dataset, file, size, mtime, rows_read, rows_quarantined, recorded))
            continue
        path = Path(file)
        stat = path.stat() if path.exists() else None
        if stat is None or stat.st_size != size or not _same_mtime(stat.st_mtime_ns, mtime):
            raise RuntimeError(
                f"landing file {file} changed or vanished after it was loaded; run again so the "
                "marts and their recorded inputs agree"
            )
        digest = recorded or known.get((file, size, mtime))
        if digest is None:
            digest = _sha256(path)
            hashed += 1
        rows.append((dataset, file, size, mtime, rows_read, rows_quarantined, digest))
    log(
        f"input files: {len(rows)} ({hashed} hashed in {time.monotonic() - started:.1f}s, "
        "the rest as their load or the previous copy recorded them)"
    )
    return rows


def is_uri(file: str) -> bool:
    """Whether a recorded landing file is a URI (`hdfs://…`, `s3a://…`): a file the Spark
    loader read where no local path reaches. Local files are recorded by their paths."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", file) is not None


def _same_mtime(now_ns: int, recorded_ns: int) -> bool:
    """A file's modification time as the loader recorded it: in nanoseconds by DuckDB's, in
    whole milliseconds by Spark's (its listing's precision, D89)."""
    if now_ns == recorded_ns:
        return True
    return recorded_ns % 1_000_000 == 0 and now_ns // 1_000_000 == recorded_ns // 1_000_000


# The order lines are the one big mart: a run rewrites the lines of the orders it changed.
ORDER_LINES = "reward_order_lines"
# What a line means, as `serving.build.source_state` records it: a generation whose lines were
# written in another format is written whole once, since updating in place would keep its old
# lines as they were. 2: R3's excluded reasons name the order's state (D65; 1, unrecorded:
# `not_settled`).
ORDER_LINES_FORMAT = 2
GENERATIONS = (".a", ".b")


def generation_files(target: Path) -> tuple[Path, ...]:
    """The two files the serving copy alternates between; `target` links to one of them."""
    return tuple(target.with_name(target.name + g) for g in GENERATIONS)


def build_serving_copy(
    warehouse: Path,
    target: Path,
    *,
    dagster_run_id: str,
    rule_vars: dict[str, Any],
    duckdb_config: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, int]:
    """Bring the generation `target` does not link to up to date with the marts of `warehouse`,
    then point `target` at it; returns rows per mart. The small marts are written whole; the
    order lines of the orders changed since that generation was written are replaced, in one
    transaction (D23, D29). A generation that cannot be updated in place -- none yet, written
    before the order models' last full build, holding order lines of an older format (D65), or
    held open by a reader -- is written whole into a new file first. Nothing is swapped unless
    the generation was committed and checkpointed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(target.name + ".tmp-*"):  # from a killed run
        stale.unlink()
    active = Path(os.readlink(target)).name if target.is_symlink() else None
    generation = next(f for f in generation_files(target) if f.name != active)
    source = _warehouse_state(warehouse)
    counts = None
    current = target.parent / active if active else None
    if not generation.exists() and current is not None and current.exists():
        # the second run: start the other generation as a copy of the current one (a file
        # copy, once), then update it in place like every later run
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        try:
            shutil.copyfile(current, tmp)
            os.replace(tmp, generation)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if generation.exists():
        with contextlib.suppress(_NotInPlace):
            counts = _update_in_place(
                generation, warehouse, target, source, dagster_run_id, rule_vars, duckdb_config, log
            )
    if counts is None:
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        try:
            counts = _write(
                tmp,
                warehouse,
                target,
                source,
                dagster_run_id,
                rule_vars,
                duckdb_config,
                log,
                previous=None,
            )
            _fsync(tmp)
            os.replace(tmp, generation)  # a reader of the old file keeps reading it
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    # the swap: readers open the previous generation or this one, never a part of either
    link = target.with_name(f"{target.name}.tmp-link-{os.getpid()}")
    link.unlink(missing_ok=True)
    os.symlink(generation.name, link)
    os.replace(link, target)
    _fsync(target.parent)
    return counts


class _NotInPlace(Exception):
    """This generation must be written whole."""


def _warehouse_state(warehouse: Path) -> dict[str, Any]:
    """The load the order models were built through, and when they were last built in full."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = (
            con.execute(
                "select built_through, full_build_at from intermediate.incremental_state "
                "where model = 'int_short_video_orders'"
            ).fetchone()
            if con.execute(
                "select count(*) from duckdb_columns() where schema_name = 'intermediate' "
                "and table_name = 'incremental_state' and column_name = 'full_build_at'"
            ).fetchone()[0]
            else None
        )
    if not row:
        return {}
    return {
        "built_through": row[0],
        "full_build_at": str(row[1]),
        "order_lines_format": ORDER_LINES_FORMAT,
    }


def _update_in_place(
    generation: Path,
    warehouse: Path,
    target: Path,
    source: dict[str, Any],
    dagster_run_id: str,
    rule_vars: dict[str, Any],
    duckdb_config: dict[str, Any] | None,
    log: Callable[[str], None],
) -> dict[str, int]:
    try:
        con = duckdb.connect(str(generation), config=duckdb_config or {})
    except duckdb.Error as exc:  # a reader still has it open
        log(f"serving copy: {generation.name} is open elsewhere ({exc}); writing it whole")
        raise _NotInPlace from exc
    try:
        previous = con.execute("select source_state from serving.build").fetchone()
        previous = json.loads(previous[0]) if previous and previous[0] else {}
        if not source or previous.get("full_build_at") != source["full_build_at"]:
            log(
                f"serving copy: {generation.name} predates the order models' last full build; "
                "writing it whole"
            )
            raise _NotInPlace
        if previous.get("order_lines_format", 1) != source["order_lines_format"]:
            log(
                f"serving copy: {generation.name} holds order lines of format "
                f"{previous.get('order_lines_format', 1)}, not {source['order_lines_format']} "
                "(D65); writing it whole"
            )
            raise _NotInPlace
        if _columns(con, ORDER_LINES) != _columns_of(warehouse, ORDER_LINES):
            log(
                f"serving copy: {generation.name} has marts.{ORDER_LINES} with other columns "
                "or types than the warehouse's; writing it whole"
            )
            raise _NotInPlace
        return _write_into(
            con, warehouse, target, source, dagster_run_id, rule_vars, log, previous=previous
        )
    finally:
        con.close()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A mart's columns and their types, in order, in the file `con` opened."""
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [table],
    ).fetchall()


def _columns_of(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return _columns(con, table)


def _write(
    path: Path,
    warehouse: Path,
    target: Path,
    source: dict[str, Any],
    dagster_run_id: str,
    rule_vars: dict[str, Any],
    duckdb_config: dict[str, Any] | None,
    log: Callable[[str], None],
    previous: dict[str, Any] | None,
) -> dict[str, int]:
    con = duckdb.connect(str(path), config=duckdb_config or {})
    try:
        return _write_into(con, warehouse, target, source, dagster_run_id, rule_vars, log, previous)
    finally:
        con.close()


def _write_into(
    con: duckdb.DuckDBPyConnection,
    warehouse: Path,
    target: Path,
    source: dict[str, Any],
    dagster_run_id: str,
    rule_vars: dict[str, Any],
    log: Callable[[str], None],
    previous: dict[str, Any] | None,
) -> dict[str, int]:
    """Write the marts into `con`'s file in one transaction: whole, or (with `previous`, the
    state it was last written from) the small marts whole and the changed order lines."""
    counts: dict[str, int] = {}
    con.execute("set enable_progress_bar = false")
    con.execute("attach ? as built_warehouse (read_only)", [str(warehouse)])
    try:
        with transaction(con):
            con.execute("create schema if not exists marts")
            for name in SERVED_MARTS:
                started = time.monotonic()
                if name == ORDER_LINES and previous is not None:
                    changed = _replace_changed_lines(con, previous["built_through"])
                    note = f"{changed:,} changed orders' lines replaced"
                else:
                    con.execute(
                        f"create or replace table marts.{name} as "
                        f"select * from built_warehouse.marts.{name}"
                    )
                    note = "written whole"
                counts[name] = con.execute(f"select count(*) from marts.{name}").fetchone()[0]
                seconds = time.monotonic() - started
                log(f"marts.{name}: {counts[name]:,} rows ({note}) in {seconds:.1f}s")
            inputs = _input_files(con, target, log)
            con.execute("create schema if not exists serving")
            con.execute(
                "create or replace table serving.build (dagster_run_id varchar, "
                "built_at varchar, code_version varchar, rule_vars varchar, "
                "source_state varchar)"
            )
            con.execute(
                "insert into serving.build values (?, ?, ?, ?, ?)",
                [
                    dagster_run_id,
                    local_now(rule_vars["timezone"]),
                    code_version(),
                    json.dumps(rule_vars, sort_keys=True),
                    json.dumps(source),
                ],
            )
            con.execute(
                "create or replace table serving.input_files (dataset varchar, "
                "file varchar, size_bytes bigint, mtime_ns bigint, rows_read bigint, "
                "rows_quarantined bigint, sha256 varchar)"
            )
            if inputs:
                con.executemany(
                    "insert into serving.input_files values (?, ?, ?, ?, ?, ?, ?)", inputs
                )
    finally:
        con.execute("detach built_warehouse")
    con.execute("checkpoint")
    return counts


def _replace_changed_lines(con: duckdb.DuckDBPyConnection, built_through: int) -> int:
    """Replace the order lines of every order rebuilt after load `built_through`: the
    short-video orders (re)computed since, and every order re-read since (one that stopped being
    a short-video order has no line any more)."""
    con.execute(f"""
        create or replace temp table changed_orders as
        select order_id from built_warehouse.intermediate.int_short_video_orders
        where changed_through > {int(built_through)}
        union
        select order_id from built_warehouse.intermediate.int_orders_current
        where loaded_through > {int(built_through)}
    """)
    con.execute(
        f"delete from marts.{ORDER_LINES} where order_id in (select order_id from changed_orders)"
    )
    con.execute(
        f"insert into marts.{ORDER_LINES} "
        f"select * from built_warehouse.marts.{ORDER_LINES} "
        "where order_id in (select order_id from changed_orders)"
    )
    changed = con.execute("select count(*) from changed_orders").fetchone()[0]
    con.execute("drop table changed_orders")
    return changed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
