"""The ledger's tables, and who acts on them.

The ledger is history: a file written by any earlier version keeps verifying and keeps working.
So its tables only ever grow by appending: rows are inserted, never updated or deleted, and a
new fact gets a new table rather than a new column in an old one.

* The first ledger (payout runs with their inputs and per-account entries) is `FIRST_TABLES`,
  exactly as that version created it.
* The payout cycle (D35-D38) added `CYCLE_TABLES`: the events of each run's life (published,
  approved, rejected) with who declared them, from which OS user and host; manual adjustments;
  the adjustments each run carried; and the rewards each run was computed from, so that any past
  payout can be re-read exactly (`rewards export --payout-run N`). A ledger started since sums
  of money were widened (D59) creates `run_rewards` with DECIMAL(38,2) amounts and
  DECIMAL(38,0) uncapped points; an older one keeps its DECIMAL(18,2) and BIGINT columns
  (publish refuses, in one line, a value they cannot hold).
* Issue 30 added `CLOSE_TABLES`: the ledger's start record (`rewards ledger init`, D45), the
  order lines behind each run's rule-based lines (what changed behind a clawback, D48) and the
  month-end closes (`rewards close`, D50).

A payout run written before the cycle has no events: it was paid, so it counts as approved.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

import duckdb

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
    baseline_period_gmv decimal(38, 2) not null,
    baseline_gmv decimal(38, 2) not null,
    window_gmv decimal(38, 2) not null,
    over_quota_gmv decimal(38, 2) not null,
    reward_base decimal(38, 2) not null,
    reward_points_uncapped decimal(38, 0) not null,
    reward_points bigint not null,
    is_capped boolean not null,
    primary key (payout_run_id, account_id)
);
"""

CLOSE_TABLES = """
create table if not exists ledger.ledger_starts (
    ledger_nonce varchar primary key,
    started_by varchar not null,
    os_user varchar not null,
    host varchar not null,
    started_at varchar not null,
    previous_sha256 varchar,
    sha256 varchar not null
);
create table if not exists ledger.run_order_lines (
    payout_run_id integer not null,
    account_id varchar not null,
    order_id varchar not null,
    period varchar not null,
    created_day date,
    status varchar,
    amount decimal(18, 2),
    refunded_amount decimal(18, 2),
    line_status varchar not null,
    excluded_reason varchar,
    counted_gmv decimal(18, 2) not null
);
create table if not exists ledger.month_closes (
    close_id integer primary key,
    month varchar not null,
    month_end date not null,
    accrual_date date,
    days_elapsed integer,
    window_gmv_to_date decimal(38, 2) not null,
    points_to_date bigint not null,
    projected_points bigint not null,
    accounts_earning bigint not null,
    dagster_run_id varchar not null,
    marts_built_at varchar not null,
    code_version varchar not null,
    rule_vars varchar not null,
    closed_by varchar not null,
    os_user varchar not null,
    host varchar not null,
    closed_at varchar not null,
    previous_sha256 varchar not null,
    sha256 varchar not null
);
"""

# An adjustment's points lie within ±MAX_ADJUSTMENT_POINTS (D47): `rewards adjust` refuses
# more, and one recorded by an earlier version beyond it is void -- never carried, so no sum of
# a ledger's BIGINT points can overflow (nine million such adjustments would be needed)
MAX_ADJUSTMENT_POINTS = 10**12

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
    """Every table, created where missing (an older ledger gains the newer tables, empty)."""
    con.execute(FIRST_TABLES)
    con.execute(CYCLE_TABLES)
    con.execute(CLOSE_TABLES)


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
