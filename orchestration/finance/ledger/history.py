"""Reading the ledger: what each payout run is now (pending, approved, rejected), every line it
paid or proposed, and every adjustment with where it stands. One set of temp views that
publish, approve, explain, export, the statements and `rewards ledger` all read, so "paid" means
the same everywhere: the lines of approved runs (D35).

* `ledger_runs`: one row per payout run: who published it (name, OS user, host) and when, its
  state, who decided it and why, its net points, and `paid_total` -- the points of every
  approved run up to and including it. A run written before the payout cycle has no events: it
  was paid, so it is `approved` (`is_first_version`).
* `ledger_lines`: one row per entry of a run: the rule-based entries (`initial`, `increase`,
  `clawback`) and the adjustments it carried (`adjustment`, with reason, reference, who asked),
  each with the run's state.
* `ledger_adjustments`: one row per adjustment recorded: `recorded` until a publish carries it,
  then the state of the run that carried it; `void` if an earlier version recorded it beyond
  ±MAX_ADJUSTMENT_POINTS (D47): never carried, never paid.

* `ledger_paid`: per account, what the approved runs paid (`paid_points`) and the approved
  adjustments among it (`adjustment_points`).

The views read a ledger attached under any name, a first-version ledger (the cycle's tables
absent: no events, no adjustments) or no ledger at all (every view empty).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ..serving import has_ledger
from .anchor import Anchor, catch_up, check, refuse_if_missing
from .chain import verify_chain
from .files import LedgerDamaged, attach_read_only, is_damage
from .schema import MAX_ADJUSTMENT_POINTS, LedgerError, existing_tables

# the columns of each table as an empty relation, for a ledger without it
_EMPTY = {
    "payout_runs": (
        "payout_run_id integer, published_at varchar, published_by varchar, "
        "dagster_run_id varchar, marts_built_at varchar, code_version varchar, "
        "rule_vars varchar, inputs_sha256 varchar, accounts_adjusted bigint, "
        "points_adjusted bigint, points_paid_total bigint"
    ),
    "entries": (
        "payout_run_id integer, account_id varchar, entry_type varchar, points bigint, "
        "reward_points bigint"
    ),
    "run_events": (
        "event_id integer, payout_run_id integer, event varchar, declared_by varchar, "
        "os_user varchar, host varchar, event_at varchar, reason varchar"
    ),
    "adjustments": (
        "adjustment_id integer, account_id varchar, points bigint, reason varchar, "
        "reference varchar, requested_by varchar, os_user varchar, host varchar, "
        "requested_at varchar"
    ),
    "adjustment_entries": (
        "adjustment_id integer, payout_run_id integer, account_id varchar, points bigint"
    ),
}


def _relation(tables: set[str], prefix: str | None, name: str) -> str:
    if prefix is not None and name in tables:
        return f"{prefix}.{name}"
    columns = ", ".join(
        f"cast(null as {kind}) as {column}"
        for column, kind in (c.strip().split(" ") for c in _EMPTY[name].split(","))
    )
    return f"(select {columns} where false)"


def define_views(con: duckdb.DuckDBPyConnection, prefix: str | None) -> None:
    """Create (or replace) the temp views over the ledger in `prefix` (`ledger` in the ledger's
    own connection, `payouts.ledger` when attached as `payouts`; None: no ledger)."""
    tables = set() if prefix is None else existing_tables(con, prefix)
    runs, entries, events, adjustments, carried = (
        _relation(tables, prefix, name)
        for name in ("payout_runs", "entries", "run_events", "adjustments", "adjustment_entries")
    )
    con.execute(f"""
        create or replace temp view ledger_runs as
        with published as (
            select * from {events} where event = 'published'
        ),
        decided as (
            select * from {events} where event in ('approved', 'rejected')
        ),
        lines as (
            select payout_run_id, points from {entries}
            union all
            select payout_run_id, points from {carried}
        ),
        nets as (
            select payout_run_id, sum(points) as points from lines group by payout_run_id
        ),
        states as (
            select
                runs.payout_run_id,
                runs.published_at,
                runs.published_by,
                published.os_user as published_os_user,
                published.host as published_host,
                case
                    when published.event_id is null then 'approved'
                    when decided.event is null then 'pending'
                    else decided.event
                end as state,
                published.event_id is null as is_first_version,
                decided.declared_by as decided_by,
                decided.os_user as decided_os_user,
                decided.host as decided_host,
                decided.event_at as decided_at,
                decided.reason as decision_reason,
                runs.accounts_adjusted,
                cast(coalesce(nets.points, 0) as bigint) as points,
                runs.dagster_run_id,
                runs.marts_built_at,
                runs.code_version,
                runs.rule_vars,
                runs.inputs_sha256
            from {runs} as runs
            left join published on runs.payout_run_id = published.payout_run_id
            left join decided on runs.payout_run_id = decided.payout_run_id
            left join nets on runs.payout_run_id = nets.payout_run_id
        )
        select
            *,
            cast(sum(case when state = 'approved' then points else 0 end)
                over (order by payout_run_id) as bigint) as paid_total
        from states
    """)
    con.execute(f"""
        create or replace temp view ledger_adjustments as
        select
            adjustments.adjustment_id,
            adjustments.account_id,
            adjustments.points,
            adjustments.reason,
            adjustments.reference,
            adjustments.requested_by,
            adjustments.os_user,
            adjustments.host,
            adjustments.requested_at,
            carried.payout_run_id,
            -- an adjustment beyond the bound, recorded by an earlier version, is void: never
            -- carried, never waiting (D47)
            coalesce(
                runs.state,
                case
                    when adjustments.points between -{MAX_ADJUSTMENT_POINTS}
                        and {MAX_ADJUSTMENT_POINTS} then 'recorded'
                    else 'void'
                end
            ) as state,
            runs.decided_by,
            runs.decided_at
        from {adjustments} as adjustments
        left join {carried} as carried on adjustments.adjustment_id = carried.adjustment_id
        left join ledger_runs as runs on carried.payout_run_id = runs.payout_run_id
    """)
    con.execute(f"""
        create or replace temp view ledger_lines as
        select
            entries.payout_run_id,
            runs.state,
            entries.account_id,
            entries.entry_type,
            entries.points,
            entries.reward_points,
            cast(null as integer) as adjustment_id,
            cast(null as varchar) as reason,
            cast(null as varchar) as reference,
            cast(null as varchar) as requested_by,
            runs.published_at,
            runs.decided_by
        from {entries} as entries
        inner join ledger_runs as runs on entries.payout_run_id = runs.payout_run_id
        union all
        select
            adjusted.payout_run_id,
            adjusted.state,
            adjusted.account_id,
            'adjustment',
            adjusted.points,
            cast(null as bigint),
            adjusted.adjustment_id,
            adjusted.reason,
            adjusted.reference,
            adjusted.requested_by,
            runs.published_at,
            adjusted.decided_by
        from ledger_adjustments as adjusted
        inner join ledger_runs as runs on adjusted.payout_run_id = runs.payout_run_id
    """)
    con.execute("""
        create or replace temp view ledger_paid as
        select
            account_id,
            cast(sum(points) as bigint) as paid_points,
            cast(coalesce(sum(points) filter (where entry_type = 'adjustment'), 0) as bigint)
                as adjustment_points
        from ledger_lines
        where state = 'approved'
        group by account_id
    """)


def read_ledger(con: duckdb.DuckDBPyConnection) -> str | None:
    """The ledger attached as `payouts` to a reader's connection (open_serving_copy), verified
    against its digest chain and held against its anchor (D45), with the views over it (empty
    when there is no ledger); returns the head digest. An edited ledger, or one older than its
    anchor, is refused (LedgerError) rather than shown."""
    if not has_ledger(con):
        define_views(con, None)
        return None
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = 'payouts'"
    ).fetchone()
    ledger = Path(path)
    try:
        chain = verify_chain(con, "payouts.ledger")
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise
        raise LedgerDamaged(
            f"the ledger {ledger} is damaged ({str(exc).splitlines()[0]}): nothing was read; "
            f"restore the file from a backup (its anchor {Anchor(ledger).path} names the head "
            "digest the copy must have)"
        ) from exc
    state = check(ledger, chain, Anchor(ledger).lines())
    catch_up(ledger, chain, state, reader=True)
    define_views(con, "payouts.ledger")
    return chain[-1] if chain else None


def require_ledger(ledger: Path) -> None:
    """Refuse, in one line, a command that needs a ledger where there is none: missing (its
    anchor records one) or never started."""
    if not refuse_if_missing(ledger):
        raise LedgerError(
            f"no ledger at {ledger}: nothing has been published (`rewards ledger init --by "
            "NAME` starts it, then `rewards publish`)"
        )


@contextlib.contextmanager
def open_ledger(ledger: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, str | None]]:
    """The ledger alone, read-only (attached as `payouts` to an in-memory connection), verified,
    with the views; and its head digest. For the readers that need no serving copy."""
    require_ledger(ledger)
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        attach_read_only(con, ledger)
        yield con, read_ledger(con)
    finally:
        con.close()


def no_such_run(con: duckdb.DuckDBPyConnection, run_id: int) -> LedgerError:
    """The refusal for a payout run the ledger does not hold, naming the runs it does."""
    (last,) = con.execute("select max(payout_run_id) from ledger_runs").fetchall()[0]
    return LedgerError(
        f"there is no payout run {run_id} in the ledger"
        + (f" (runs 1 to {last})" if last else " (nothing published yet)")
    )
