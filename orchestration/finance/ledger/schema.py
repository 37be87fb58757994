"""The ledger's tables, and who acts on them.

The ledger is history: a file written by any earlier version keeps verifying and keeps working.
So its tables only ever grow by appending: rows are inserted, never updated or deleted, and a
new fact gets a new table rather than a new column in an old one.

* The first ledger (payout runs with their inputs and per-account entries) is `FIRST_TABLES`,
  exactly as that version created it.
* The payout cycle (D35-D38) added `CYCLE_TABLES`: the events of each run's life (published,
  approved, rejected) with who declared them, from which OS user and host; manual adjustments;
  the adjustments each run carried; and the rewards each run was computed from, so that any past
  payout can be re-read exactly (`rewards export --payout-run N`).

A payout run written before the cycle has no events: it was paid, so it counts as approved.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..serving import retry_while_locked

FIRST_TABLES = """
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

CYCLE_TABLES = """
create table if not exists ledger.run_events (
    event_id integer primary key,
    payout_run_id integer not null,
    event varchar not null,
    declared_by varchar not null,
    os_user varchar not null,
    host varchar not null,
    event_at varchar not null,
    reason varchar,
    previous_sha256 varchar not null,
    sha256 varchar not null
);
create table if not exists ledger.adjustments (
    adjustment_id integer primary key,
    account_id varchar not null,
    points bigint not null,
    reason varchar not null,
    reference varchar,
    requested_by varchar not null,
    os_user varchar not null,
    host varchar not null,
    requested_at varchar not null,
    previous_sha256 varchar,
    sha256 varchar not null
);
create table if not exists ledger.adjustment_entries (
    adjustment_id integer primary key,
    payout_run_id integer not null,
    account_id varchar not null,
    points bigint not null
);
create table if not exists ledger.run_rewards (
    payout_run_id integer not null,
    account_id varchar not null,
    account_type varchar,
    enrolled_at timestamp with time zone,
    is_eligible boolean not null,
    ineligible_reason varchar,
    is_new_entrant boolean not null,
    baseline_period_gmv decimal(18, 2) not null,
    baseline_gmv decimal(18, 2) not null,
    window_gmv decimal(18, 2) not null,
    over_quota_gmv decimal(18, 2) not null,
    reward_base decimal(18, 2) not null,
    reward_points_uncapped bigint not null,
    reward_points bigint not null,
    is_capped boolean not null,
    primary key (payout_run_id, account_id)
);
"""

# marts.account_rewards' columns (the rulebook's table), as run_rewards keeps them
REWARD_COLUMNS = (
    "account_id",
    "account_type",
    "enrolled_at",
    "is_eligible",
    "ineligible_reason",
    "is_new_entrant",
    "baseline_period_gmv",
    "baseline_gmv",
    "window_gmv",
    "over_quota_gmv",
    "reward_base",
    "reward_points_uncapped",
    "reward_points",
    "is_capped",
)

CYCLE_TABLE_NAMES = ("run_events", "adjustments", "adjustment_entries", "run_rewards")


class LedgerError(Exception):
    """The ledger refuses an action, for a stated reason (one line)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: `name` is what the person declared (`--by NAME`); the OS user and host are
    what this process runs as. NAME is a declaration, not an authentication (docs/finance.md)."""

    name: str
    os_user: str
    host: str

    @classmethod
    def declared(cls, name: str | None = None) -> Actor:
        """`name` as given (the OS user name when None), with this process's user and host."""
        try:
            os_user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry and no LOGNAME (some containers)
            os_user = "unknown"
        name = " ".join((os_user if name is None else name).split())
        if not name:
            raise LedgerError("--by needs a name: who is doing this")
        return cls(name, os_user, socket.gethostname())


def same_person(a: str, b: str) -> bool:
    """Two declared names are the same person: case and spacing aside."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every table, created where missing (a first-version ledger gains the cycle's tables)."""
    con.execute(FIRST_TABLES)
    con.execute(CYCLE_TABLES)


def connect_ledger(ledger: Path) -> duckdb.DuckDBPyConnection:
    """The ledger file for writing, waiting up to half a minute for another writer's lock."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    return retry_while_locked(lambda: duckdb.connect(str(ledger)), f"the ledger {ledger}")


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query (None: no row), its result read to the end: DuckDB refuses other
    work on a connection whose last result is unfinished."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def existing_tables(con: duckdb.DuckDBPyConnection, prefix: str) -> set[str]:
    """The ledger schema's tables, `prefix` naming where: `ledger` in the ledger's own
    connection, `payouts.ledger` when it is attached as `payouts`."""
    catalog = prefix.split(".")[0] if "." in prefix else None
    database = "current_database()" if catalog is None else "?"
    return {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'ledger' "
            f"and database_name = {database}",
            [] if catalog is None else [catalog],
        ).fetchall()
    }
