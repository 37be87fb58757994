"""The ledger's digest chain: every record written is chained to the one before it, so an edit
made outside `rewards` -- an entry, an approval, an adjustment changed, inserted or deleted -- is
found before anything reads or appends (D24, D36).

The chain is the records in the order they were written, each holding the SHA-256 of what it
says and of the record before it:

* a payout run: its entries and the adjustments it carried. Runs of the first ledger version
  digest their entries only; runs written since the payout cycle put a format line first, so a
  run of the cycle is known as one by its digest alone, even if its events were deleted;
* a run event (published, approved, rejected): who declared it, from which OS user and host,
  when and why. The `published` event also digests the run's header (rule vars, inputs, code
  version, totals), its input files and the rewards it was computed from;
* an adjustment: the account, the points, the reason, the reference and who asked;
* a month-end close (`rewards close`, D50): the accrual's figures booked for the month, from
  which build, by whom and when;
* the ledger's start (`rewards ledger init`, D45): who started it, when, and a random nonce, so
  that every ledger's first digest -- its identity -- is its own. A ledger started before
  `ledger init` existed has no start record: its first payout run is its first record.

`verify` re-reads every record, recomputes its digest and follows the chain from its first
record to its last (the head), then checks the totals and the cycle's rules (one publish event
per run, at most one decision). It cannot tell that the last records were removed: the chain
ends earlier, that is all. That is what the anchor beside the ledger is for (anchor.py, D45).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from ..serving import rows_as_dicts
from .order_lines import lines_digest
from .schema import CYCLE_TABLE_NAMES, REWARD_COLUMNS, LedgerError, existing_tables

RUN_HEADER = (
    "payout_run_id",
    "published_at",
    "published_by",
    "dagster_run_id",
    "marts_built_at",
    "code_version",
    "rule_vars",
    "inputs_sha256",
    "accounts_adjusted",
    "points_adjusted",
    "points_paid_total",
)
EVENT_FIELDS = (
    "event_id",
    "payout_run_id",
    "event",
    "declared_by",
    "os_user",
    "host",
    "event_at",
    "reason",
)
START_FIELDS = ("ledger_nonce", "started_by", "os_user", "host", "started_at")
ADJUSTMENT_FIELDS = (
    "adjustment_id",
    "account_id",
    "points",
    "reason",
    "reference",
    "requested_by",
    "os_user",
    "host",
    "requested_at",
)
CYCLE_FORMAT_LINE = "\nformat\tpayout-cycle"


def run_digest(
    previous: str | None,
    entries: Iterable[Sequence[Any]],
    adjustment_entries: Iterable[Sequence[Any]] = (),
    *,
    cycle: bool = True,
) -> str:
    """A payout run's digest: its entries (account, type, points, reward points; by account)
    and carried adjustments (id, account, points; by id), after the previous record's digest.
    `cycle=False` is the first ledger version's form (entries only, no format line)."""
    digest = hashlib.sha256((previous or "").encode())
    if cycle:
        digest.update(CYCLE_FORMAT_LINE.encode())
    for account_id, entry_type, points, reward_points in entries:
        digest.update(f"\n{account_id}\t{entry_type}\t{points}\t{reward_points}".encode())
    for adjustment_id, account_id, points in adjustment_entries:
        digest.update(f"\nadjustment\t{adjustment_id}\t{account_id}\t{points}".encode())
    return digest.hexdigest()


def record_digest(previous: str | None, record: Mapping[str, Any]) -> str:
    """An event's or an adjustment's digest: its fields as sorted JSON after the previous
    record's digest."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{previous or ''}\n{text}".encode()).hexdigest()


def inputs_digest(inputs: Iterable[Sequence[Any]]) -> str:
    """The input files of a run (dataset, file, size, rows read, SHA-256; by dataset and file),
    as the first ledger version digested them into `inputs_sha256`."""
    return hashlib.sha256(json.dumps([list(row) for row in inputs]).encode()).hexdigest()


def event_record(
    event: Mapping[str, Any],
    run: Mapping[str, Any] | None = None,
    inputs_sha256: str | None = None,
    rewards_sha256: str | None = None,
    order_lines_sha256: str | None = None,
) -> dict[str, Any]:
    """What an event's digest covers; a `published` event also covers its run's header, the
    run's input files, the rewards it was computed from and, since issue 30, the order lines
    behind its rule-based lines (a run that kept none, like every earlier run, has no such
    key: deleting a run's lines changes what its event digests)."""
    record = {name: event[name] for name in EVENT_FIELDS}
    if event["event"] == "published":
        assert run is not None
        record["run"] = {name: run[name] for name in RUN_HEADER}
        record["run_inputs_sha256"] = inputs_sha256
        record["run_rewards_sha256"] = rewards_sha256
        if order_lines_sha256 is not None:
            record["run_order_lines_sha256"] = order_lines_sha256
    return record


def adjustment_record(adjustment: Mapping[str, Any]) -> dict[str, Any]:
    return {name: adjustment[name] for name in ADJUSTMENT_FIELDS}


CLOSE_FIELDS = (
    "close_id",
    "month",
    "month_end",
    "accrual_date",
    "days_elapsed",
    "window_gmv_to_date",
    "points_to_date",
    "projected_points",
    "accounts_earning",
    "dagster_run_id",
    "marts_built_at",
    "code_version",
    "rule_vars",
    "closed_by",
    "os_user",
    "host",
    "closed_at",
)


def close_record(close: Mapping[str, Any]) -> dict[str, Any]:
    """What a month-end close's digest covers: every field, dates as YYYY-MM-DD and the GMV
    as exact text with its two places, as written and as read back alike."""
    record = {"record": "month closed", **{name: close[name] for name in CLOSE_FIELDS}}
    for name in ("month_end", "accrual_date"):
        record[name] = None if record[name] is None else str(record[name])[:10]
    record["window_gmv_to_date"] = f"{Decimal(record['window_gmv_to_date']):.2f}"
    return record


def start_record(start: Mapping[str, Any]) -> dict[str, Any]:
    return {"record": "ledger started", **{name: start[name] for name in START_FIELDS}}


def _text(column: str) -> str:
    """A run_rewards column as canonical text for its digest: instants as epoch microseconds
    (the session's time zone must not matter), nulls as \\N."""
    value = f"cast(epoch_us({column}) as varchar)" if column == "enrolled_at" else column
    return f"coalesce(cast({value} as varchar), '\\N')"


def rewards_digests(
    con: duckdb.DuckDBPyConnection, prefix: str, run_id: int | None = None
) -> dict[int, str]:
    """The SHA-256 of each payout run's rewards (`run_rewards`, by account; one run's with
    `run_id`), computed by DuckDB over a canonical text of every column."""
    columns = ", ".join(_text(c) for c in REWARD_COLUMNS)
    only = "" if run_id is None else f"where payout_run_id = {int(run_id)} "
    return dict(
        con.execute(
            f"select payout_run_id, sha256(string_agg(concat_ws(chr(9), {columns}), chr(10) "
            f"order by account_id)) from {prefix}.run_rewards {only}group by payout_run_id"
        ).fetchall()
    )


def _by_run(con: duckdb.DuckDBPyConnection, sql: str) -> dict[int, list[tuple]]:
    """A query's rows grouped by their first column, a payout run id, in the query's order, the
    id left out (a run without rows: an empty list)."""
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for run_id, *row in con.execute(sql).fetchall():
        grouped[run_id].append(tuple(row))
    return grouped


@dataclass
class _Link:
    label: str
    previous: str | None
    recorded: str
    expected: Any  # callable(previous) -> digest, or a tuple of them (a run: either form)


def verify(con: duckdb.DuckDBPyConnection, prefix: str = "ledger") -> str | None:
    """Re-check the whole ledger in `prefix` (`ledger`, or `payouts.ledger` when attached);
    returns the head digest (None: an empty ledger), raises LedgerError naming the first record
    that no longer matches."""
    chain = verify_chain(con, prefix)
    return chain[-1] if chain else None


def verify_chain(con: duckdb.DuckDBPyConnection, prefix: str = "ledger") -> list[str]:
    """`verify`, returning every record's digest in chain order: the first is the ledger's
    identity, the last its head (an empty list: no record)."""
    tables = existing_tables(con, prefix)
    if "payout_runs" not in tables:
        return []
    cycle = set(CYCLE_TABLE_NAMES) <= tables
    runs = rows_as_dicts(con, f"select * from {prefix}.payout_runs order by payout_run_id")
    entries = _by_run(
        con,
        f"select payout_run_id, account_id, entry_type, points, reward_points "
        f"from {prefix}.entries order by payout_run_id, account_id",
    )
    inputs = _by_run(
        con,
        f"select payout_run_id, dataset, file, size_bytes, rows_read, sha256 "
        f"from {prefix}.payout_run_inputs order by payout_run_id, dataset, file",
    )
    carried: dict[int, list[tuple]] = defaultdict(list)
    events: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    rewards: dict[int, str] = {}
    order_lines: dict[int, str] = {}
    if cycle:
        carried = _by_run(
            con,
            f"select payout_run_id, adjustment_id, account_id, points "
            f"from {prefix}.adjustment_entries order by payout_run_id, adjustment_id",
        )
        events = rows_as_dicts(con, f"select * from {prefix}.run_events order by event_id")
        adjustments = rows_as_dicts(
            con, f"select * from {prefix}.adjustments order by adjustment_id"
        )
        rewards = rewards_digests(con, prefix)
        order_lines = lines_digest(con, prefix)
    runs_by_id = {run["payout_run_id"]: run for run in runs}

    links: list[_Link] = []
    if "ledger_starts" in tables:
        starts = rows_as_dicts(con, f"select * from {prefix}.ledger_starts")
        if len(starts) > 1:
            raise LedgerError(f"the ledger holds {len(starts)} start records, not 1")
        for start in starts:
            if start["previous_sha256"] is not None:
                raise LedgerError("the ledger's start record is not its first record")
            started = start_record(start)
            links.append(
                _Link(
                    "the ledger's start record",
                    None,
                    start["sha256"],
                    lambda p, r=started: record_digest(p, r),
                )
            )
    for run in runs:
        run_id = run["payout_run_id"]
        links.append(
            _Link(
                f"payout run {run_id}",
                run["previous_run_sha256"],
                run["entries_sha256"],
                (
                    lambda p, r=run_id: run_digest(p, entries[r], carried[r], cycle=True),
                    lambda p, r=run_id: (
                        run_digest(p, entries[r], cycle=False) if not carried[r] else None
                    ),
                ),
            )
        )
    for event in events:
        run = runs_by_id.get(event["payout_run_id"])
        what = {"published": "publish record", "approved": "approval", "rejected": "rejection"}
        label = (
            f"the {what.get(event['event'], event['event'])} of payout run {event['payout_run_id']}"
        )
        if run is None:
            raise LedgerError(f"{label} names a payout run the ledger does not hold")
        run_id = run["payout_run_id"]
        record = event_record(
            event,
            run,
            inputs_digest(inputs[run_id]),
            rewards.get(run_id),
            order_lines.get(run_id),
        )
        links.append(
            _Link(
                label,
                event["previous_sha256"],
                event["sha256"],
                lambda p, r=record: record_digest(p, r),
            )
        )
    if "month_closes" in tables:
        for close in rows_as_dicts(con, f"select * from {prefix}.month_closes"):
            closed = close_record(close)
            links.append(
                _Link(
                    f"the close of {close['month']}",
                    close["previous_sha256"],
                    close["sha256"],
                    lambda p, r=closed: record_digest(p, r),
                )
            )
    for adjustment in adjustments:
        record = adjustment_record(adjustment)
        links.append(
            _Link(
                f"adjustment {adjustment['adjustment_id']}",
                adjustment["previous_sha256"],
                adjustment["sha256"],
                lambda p, r=record: record_digest(p, r),
            )
        )
    cycle_runs, chain = _walk(links)

    published: dict[int, int] = defaultdict(int)
    decided: dict[int, list[str]] = defaultdict(list)
    for event in events:
        run_id = event["payout_run_id"]
        if event["event"] == "published":
            published[run_id] += 1
        else:
            decided[run_id].append(event["event"])
    for run in runs:
        run_id = run["payout_run_id"]
        is_cycle = f"payout run {run_id}" in cycle_runs
        if is_cycle and published[run_id] != 1:
            raise LedgerError(
                f"payout run {run_id} has {published[run_id]} publish records, not 1: "
                "ledger rows were changed or deleted"
            )
        if not is_cycle and (published[run_id] or decided[run_id]):
            raise LedgerError(
                f"payout run {run_id} was written before the payout cycle but has events: "
                "ledger rows were changed"
            )
        if len(decided[run_id]) > 1:
            raise LedgerError(f"payout run {run_id} was decided {len(decided[run_id])} times")
        if len(entries[run_id]) != run["accounts_adjusted"]:
            raise LedgerError(
                f"payout run {run_id} no longer matches its recorded digest: "
                "ledger rows were changed or deleted"
            )
    by_id = {a["adjustment_id"]: a for a in adjustments}
    for run_id, rows in carried.items():
        for adjustment_id, account_id, points in rows:
            asked = by_id.get(adjustment_id)
            if asked is None or (asked["account_id"], asked["points"]) != (account_id, points):
                raise LedgerError(
                    f"payout run {run_id} carries adjustment {adjustment_id} as "
                    f"{account_id} {points:+,}, which is not what was recorded"
                )
    _check_totals(runs, entries, carried, decided)
    return chain


def _walk(links: list[_Link]) -> tuple[set[str], list[str]]:
    """Follow the chain from its first record; returns the labels of the payout runs whose
    digest is the cycle's form, and every digest in chain order. Raises on a record that no
    longer matches, a fork, or a record left off the chain."""
    following: dict[str | None, list[_Link]] = defaultdict(list)
    for link in links:
        following[link.previous].append(link)
    head: str | None = None
    cycle_runs: set[str] = set()
    chain: list[str] = []
    while following.get(head):
        nexts = following.pop(head)
        if len(nexts) > 1:
            raise LedgerError(
                f"{nexts[0].label} and {nexts[1].label} both follow the same record: "
                "ledger rows were changed or inserted"
            )
        link = nexts[0]
        candidates = link.expected if isinstance(link.expected, tuple) else (link.expected,)
        digests = [candidate(head) for candidate in candidates]
        if link.recorded not in digests:
            raise LedgerError(
                f"{link.label} no longer matches its recorded digest: "
                "ledger rows were changed or deleted"
            )
        if len(digests) > 1 and digests[0] == link.recorded:
            cycle_runs.add(link.label)
        head = link.recorded
        chain.append(head)
    if len(chain) != len(links):
        stray = next(link for rest in following.values() for link in rest)
        raise LedgerError(
            f"{stray.label} no longer matches its recorded digest: it follows a record that is "
            "not in the ledger (ledger rows were changed or deleted)"
        )
    return cycle_runs, chain


# Each table of chain records: its digest column and the column of the digest it follows
CHAIN_COLUMNS = {
    "ledger_starts": ("sha256", "previous_sha256"),
    "payout_runs": ("entries_sha256", "previous_run_sha256"),
    "run_events": ("sha256", "previous_sha256"),
    "adjustments": ("sha256", "previous_sha256"),
    "month_closes": ("sha256", "previous_sha256"),
}


def chain_tail(con: duckdb.DuckDBPyConnection, prefix: str = "ledger") -> tuple[str, int]:
    """The head digest and the number of records of a ledger whose chain was verified before
    records were appended to it in this transaction: the one digest no record follows. Reads
    only the digest columns (a command's records are chained as they are written)."""
    tables = existing_tables(con, prefix)
    parts = [
        f"select {digest} as digest, {previous} as previous from {prefix}.{table}"
        for table, (digest, previous) in CHAIN_COLUMNS.items()
        if table in tables
    ]
    links = con.execute(" union all ".join(parts)).fetchall()
    followed = {previous for _, previous in links}
    heads = [digest for digest, _ in links if digest not in followed]
    if len(heads) != 1:
        raise LedgerError(f"the ledger's chain has {len(heads)} ends after this write, not 1")
    return heads[0], len(links)


def _check_totals(
    runs: list[dict[str, Any]],
    entries: Mapping[int, list[tuple]],
    carried: Mapping[int, list[tuple]],
    decided: Mapping[int, list[str]],
) -> None:
    """Each run's recorded paid total is the net of the earlier runs that were not rejected,
    plus its own (what it would bring the total to if approved). For the first ledger version,
    whose runs are all paid, that is the running sum of its entries."""
    paid = 0
    for run in runs:
        run_id = run["payout_run_id"]
        net = sum(e[2] for e in entries[run_id]) + sum(a[2] for a in carried[run_id])
        if paid + net != run["points_paid_total"]:
            raise LedgerError(
                f"payout run {run_id}: entries sum to {paid + net}, recorded "
                f"{run['points_paid_total']}"
            )
        if decided.get(run_id) != ["rejected"]:
            paid += net


def ledger_identity(con: duckdb.DuckDBPyConnection, prefix: str = "ledger") -> str | None:
    """The digest of a verified ledger's first record -- the one that follows none -- which is
    the ledger's identity (its start record since `rewards ledger init`; None: no record)."""
    tables = existing_tables(con, prefix)
    parts = [
        f"select {digest} from {prefix}.{table} where {previous} is null"
        for table, (digest, previous) in CHAIN_COLUMNS.items()
        if table in tables
    ]
    if not parts:
        return None
    rows = con.execute(" union all ".join(parts)).fetchall()
    return rows[0][0] if rows else None
