"""The payout ledger's writer as the first ledger version wrote it (commit 7d3a15c, before the
payout cycle): kept verbatim but for its imports and this docstring, so the tests can write a
ledger exactly as that version did and check that the current code keeps verifying, reading
and extending it. Do not change it: it is history.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.finance.serving import open_serving_copy, read_build_info, retry_while_locked
from orchestration.serving_layout import local_now

SCHEMA = """
create schema if not exists ledger;
create table if not exists ledger.payout_runs (
    payout_run_id integer primary key,
    published_at varchar not null,
    published_by varchar not null,
    dagster_run_id varchar not null,
    marts_built_at varchar not null,
    code_version varchar not null,
    rule_vars varchar not null,
    inputs_sha256 varchar not null,
    accounts_adjusted bigint not null,
    points_adjusted bigint not null,
    points_paid_total bigint not null,
    entries_sha256 varchar not null,
    previous_run_sha256 varchar
);
create table if not exists ledger.payout_run_inputs (
    payout_run_id integer not null,
    dataset varchar not null,
    file varchar not null,
    size_bytes bigint not null,
    rows_read bigint not null,
    sha256 varchar not null,
    primary key (payout_run_id, file)
);
create table if not exists ledger.entries (
    payout_run_id integer not null,
    account_id varchar not null,
    entry_type varchar not null,
    points bigint not null,
    reward_points bigint not null,
    primary key (payout_run_id, account_id)
);
"""


class LedgerError(Exception):
    """The ledger cannot be appended to (refused for a stated reason)."""


@dataclass
class PublishResult:
    payout_run_id: int | None  # None: nothing written
    accounts_adjusted: int = 0
    points_adjusted: int = 0
    points_paid_total: int = 0
    by_type: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> accounts, points
    reason: str = ""


def _entries_digest(rows: list[tuple[str, str, int, int]], previous: str | None) -> str:
    digest = hashlib.sha256((previous or "").encode())
    for account_id, entry_type, points, reward_points in rows:
        digest.update(f"\n{account_id}\t{entry_type}\t{points}\t{reward_points}".encode())
    return digest.hexdigest()


def _run_entries(con: duckdb.DuckDBPyConnection, run_id: int) -> list[tuple]:
    return con.execute(
        "select account_id, entry_type, points, reward_points from ledger.entries "
        "where payout_run_id = ? order by account_id",
        [run_id],
    ).fetchall()


def verify(con: duckdb.DuckDBPyConnection) -> str | None:
    """The digest of the last payout run after re-checking every run's entries against their
    recorded digests; raises LedgerError naming the first run that no longer matches."""
    previous = None
    for run_id, recorded, recorded_previous, adjusted, total in con.execute(
        "select payout_run_id, entries_sha256, previous_run_sha256, accounts_adjusted, "
        "points_paid_total from ledger.payout_runs order by payout_run_id"
    ).fetchall():
        entries = _run_entries(con, run_id)
        if (
            recorded_previous != previous
            or _entries_digest(entries, previous) != recorded
            or len(entries) != adjusted
        ):
            raise LedgerError(
                f"payout run {run_id} no longer matches its recorded digest: "
                "ledger rows were changed or deleted"
            )
        paid = con.execute(
            "select coalesce(sum(points), 0) from ledger.entries where payout_run_id <= ?", [run_id]
        ).fetchall()[0][0]
        if paid != total:
            raise LedgerError(f"payout run {run_id}: entries sum to {paid}, recorded {total}")
        previous = recorded
    return previous


def _connect_ledger(ledger: Path) -> duckdb.DuckDBPyConnection:
    ledger.parent.mkdir(parents=True, exist_ok=True)
    return retry_while_locked(lambda: duckdb.connect(str(ledger)), f"the ledger {ledger}")


def publish(serving_copy: Path, ledger: Path) -> PublishResult:
    """Append a payout run for the serving copy's rewards, or nothing when the ledger already
    pays exactly them."""
    with open_serving_copy(serving_copy) as served:
        build = read_build_info(served)
        unbalanced = served.execute(
            "select count(*) from marts.reconciliation where not is_balanced"
        ).fetchall()[0][0]
        if unbalanced:
            raise LedgerError("the served reconciliation does not close; nothing published")
        rewards = served.sql(
            "select account_id, reward_points from marts.account_rewards"
        ).to_arrow_table()
        inputs = served.execute(
            "select dataset, file, size_bytes, rows_read, sha256 from serving.input_files "
            "order by dataset, file"
        ).fetchall()
    inputs_sha = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()

    con = _connect_ledger(ledger)
    try:
        con.execute("begin transaction")
        con.execute(SCHEMA)
        previous = verify(con)
        con.register("rewards_now", rewards)
        con.execute("""
            create temp table adjustments as
            with paid as (
                select account_id, sum(points) as paid from ledger.entries group by account_id
            )
            select
                coalesce(rewards_now.account_id, paid.account_id) as account_id,
                coalesce(rewards_now.reward_points, 0) - coalesce(paid.paid, 0) as points,
                coalesce(rewards_now.reward_points, 0) as reward_points,
                paid.account_id is null as first_payment
            from rewards_now
            full outer join paid on rewards_now.account_id = paid.account_id
            where coalesce(rewards_now.reward_points, 0) <> coalesce(paid.paid, 0)
        """)
        rows = con.execute("""
            select account_id,
                case when first_payment then 'initial'
                     when points > 0 then 'increase' else 'clawback' end,
                points, reward_points
            from adjustments order by account_id
        """).fetchall()
        last_run, paid_before = con.execute(
            "select coalesce(max(payout_run_id), 0), "
            "(select coalesce(sum(points), 0) from ledger.entries) from ledger.payout_runs"
        ).fetchall()[0]
        if not rows:
            con.execute("rollback")
            return PublishResult(
                None,
                points_paid_total=paid_before,
                reason=(
                    f"nothing to publish: the ledger (payout run {last_run}) already pays exactly "
                    "these rewards"
                    if last_run
                    else "nothing to publish: no account has points"
                ),
            )
        run_id = last_run + 1
        adjusted = sum(r[2] for r in rows)
        con.execute(
            "insert into ledger.payout_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                local_now(build.rule_vars["timezone"]),
                getpass.getuser(),
                build.dagster_run_id,
                build.built_at,
                build.code_version,
                json.dumps(build.rule_vars, sort_keys=True),
                inputs_sha,
                len(rows),
                adjusted,
                paid_before + adjusted,
                _entries_digest(rows, previous),
                previous,
            ],
        )
        con.executemany(
            "insert into ledger.payout_run_inputs values (?, ?, ?, ?, ?, ?)",
            [[run_id, *row] for row in inputs],
        )
        con.execute(
            "insert into ledger.entries select ?, account_id, "
            "case when first_payment then 'initial' when points > 0 then 'increase' "
            "else 'clawback' end, points, reward_points from adjustments",
            [run_id],
        )
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()
    by_type: dict[str, tuple[int, int]] = {}
    for _, entry_type, points, _ in rows:
        accounts, total = by_type.get(entry_type, (0, 0))
        by_type[entry_type] = (accounts + 1, total + points)
    return PublishResult(run_id, len(rows), adjusted, paid_before + adjusted, by_type)
