"""`rewards export`: the rewards as CSV, Parquet or Excel, for finance -- now, or as of a payout
run.

**Now** (`--out FILE`): one row per enrolled account, `marts.account_rewards` from the serving
copy (the last good run), plus what the approved payout runs have paid (D35):
`payout_run_id` (the latest approved run, empty before the first), `paid_points` (the lines of
approved runs: rule-based and adjustments), `adjustment_points` (the approved adjustments among
them) and `unpaid_points` (`reward_points` minus the rule-based part of `paid_points`: what the
next publish would pay, positive, or claw back, negative). The workbook opens on a summary sheet
(the build, the control totals, the rule vars, `program_summary`), then the rewards with a
totals row, the payout history, the adjustments and the daily accrual.

**As of a payout run** (`--payout-run N --out FILE`): exactly what run N paid and the rewards it
was computed from, read from the ledger alone (D38), so it reads the same after any later run,
rejection or adjustment: per account, the run's rewards, its line (`run_entry_type`,
`run_points`), the adjustments it carried, and the approved total as of the run; with its state,
rule vars and input files (SHA-256). A run written by the first ledger version kept only points:
its GMV columns are empty.

CSV and Parquet are written by DuckDB, exact to the cent. Parquet carries the run and the build
in its key-value metadata; an as-of CSV gets a `FILE.run.json` beside it with the same. Every
file is written beside its target and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from ..formatting import lit
from .closes import month_closes
from .ledger.history import no_such_run, open_ledger, read_ledger, require_ledger
from .serving import BuildInfo, open_serving_copy, read_build_info, require_marts
from .workbook import (
    ID_FORMAT,
    POINTS_FORMAT,
    closes_table,
    key_value_sheet,
    local_datetime,
    rule_var_rows,
    sheet_from_query,
    summary_table,
)
from .writing import copy_query, write_file

FORMATS = (".csv", ".parquet", ".xlsx")

NOW_QUERY = """
    select
        rewards.*,
        cast((select max(payout_run_id) from ledger_runs where state = 'approved') as integer)
            as payout_run_id,
        cast(coalesce(paid.paid_points, 0) as bigint) as paid_points,
        cast(coalesce(paid.adjustment_points, 0) as bigint) as adjustment_points,
        cast(
            rewards.reward_points
            - (coalesce(paid.paid_points, 0) - coalesce(paid.adjustment_points, 0))
            as bigint
        ) as unpaid_points
    from marts.account_rewards as rewards
    left join ledger_paid as paid on rewards.account_id = paid.account_id
    order by rewards.account_id
"""

HISTORY_QUERY = """
    select
        payout_run_id,
        state,
        cast(cast(published_at as timestamptz) as timestamp) as published_at,
        account_id,
        entry_type,
        points,
        reward_points,
        adjustment_id,
        reason,
        reference,
        requested_by,
        decided_by
    from ledger_lines
    order by payout_run_id, account_id, entry_type, adjustment_id
"""

# The workbook's control totals (D67), in points: the rewards and what the ledger paid, has
# pending and holds waiting, over every account. Accounts the approved runs paid that are no
# longer in account_rewards (every enrollment withdrawn or quarantined) are not on the rewards
# sheet; their part is given apart, so the sheet's totals row plus it is the whole.
CONTROL_TOTALS_QUERY = f"""
    with sheet as ({NOW_QUERY}),
    outside as (
        select paid.*
        from ledger_paid as paid
        anti join marts.account_rewards as rewards on paid.account_id = rewards.account_id
        where paid.paid_points <> 0 or paid.adjustment_points <> 0
    ),
    outside_totals as (
        select
            count(*) as accounts,
            coalesce(sum(paid_points), 0) as paid_points,
            coalesce(sum(adjustment_points), 0) as adjustment_points,
            -- the next publish claws their rule-based points back to 0 (D24)
            -coalesce(sum(paid_points - adjustment_points), 0) as unpaid_points
        from outside
    ),
    sheet_totals as (
        select
            coalesce(sum(reward_points), 0) as reward_points,
            coalesce(sum(paid_points), 0) as paid_points,
            coalesce(sum(adjustment_points), 0) as adjustment_points,
            coalesce(sum(unpaid_points), 0) as unpaid_points
        from sheet
    )
    select
        cast(sheet_totals.reward_points as bigint),
        cast(sheet_totals.paid_points + outside_totals.paid_points as bigint),
        cast(sheet_totals.adjustment_points + outside_totals.adjustment_points as bigint),
        cast(sheet_totals.unpaid_points + outside_totals.unpaid_points as bigint),
        (select max(payout_run_id) from ledger_runs where state = 'pending'),
        (select cast(coalesce(sum(points), 0) as bigint) from ledger_runs
            where state = 'pending'),
        (select cast(coalesce(sum(points), 0) as bigint) from ledger_adjustments
            where state = 'recorded'),
        cast(outside_totals.accounts as bigint),
        cast(outside_totals.paid_points as bigint),
        cast(outside_totals.adjustment_points as bigint),
        cast(outside_totals.unpaid_points as bigint)
    from sheet_totals, outside_totals
"""

ADJUSTMENTS_QUERY = """
    select
        adjustment_id,
        account_id,
        points,
        reason,
        reference,
        requested_by,
        cast(cast(requested_at as timestamptz) as timestamp) as requested_at,
        payout_run_id,
        state,
        decided_by,
        cast(cast(decided_at as timestamptz) as timestamp) as decided_at
    from ledger_adjustments
    order by adjustment_id
"""


def _check_format(out_file: Path) -> str:
    suffix = out_file.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out must end in {', '.join(FORMATS)}, got {out_file.name!r}")
    return suffix


def _copy(
    con: duckdb.DuckDBPyConnection, query: str, path: Path, suffix: str, metadata: dict[str, str]
) -> None:
    """`query` to `path` as CSV, or as Parquet with `metadata` (CSV has no place for it)."""
    options = "format csv, header true"
    if suffix != ".csv":
        kv = ", ".join(f"{k}: {lit(v)}" for k, v in metadata.items())
        options = f"format parquet, kv_metadata {{{kv}}}"
    copy_query(con, query, path, options)


def export_rewards(serving_copy: Path, ledger: Path, out_file: Path) -> tuple[int, int | None]:
    """Write the rewards now; returns (accounts written, latest approved payout run or None)."""
    suffix = _check_format(out_file)

    def write(tmp: Path) -> tuple[int, int | None]:
        with open_serving_copy(serving_copy, ledger) as con:
            build = read_build_info(con)
            read_ledger(con)
            count, run_id = con.execute(
                f"select count(*), max(payout_run_id) from ({NOW_QUERY})"
            ).fetchall()[0]
            if suffix == ".xlsx":
                require_marts(con, "reward_accrual")  # the workbook's accrual sheet
                _now_workbook(con, build, run_id, tmp)
            else:
                _copy(
                    con,
                    NOW_QUERY,
                    tmp,
                    suffix,
                    {
                        "payout_run_id": "" if run_id is None else str(run_id),
                        "dagster_run_id": build.dagster_run_id,
                        "marts_built_at": build.built_at,
                        "code_version": build.code_version,
                    },
                )
        return count, run_id

    return write_file(out_file, write)


def _now_workbook(
    con: duckdb.DuckDBPyConnection, build: BuildInfo, run_id: int | None, path: Path
) -> None:
    from openpyxl import Workbook

    timezone = build.rule_vars["timezone"]
    book = Workbook(write_only=True)
    summary = key_value_sheet(
        book,
        "summary",
        "short-video rewards",
        [
            ("latest approved payout run", "none yet" if run_id is None else run_id),
            ("marts built by Dagster run", build.dagster_run_id),
            ("marts built at", local_datetime(build.built_at, timezone)),
            ("code version", build.code_version),
            ("times are local to", timezone),
            *_control_totals(con),
            *rule_var_rows(build.rule_vars),
        ],
    )
    summary_table(summary, con)
    sheet_from_query(book, con, "account_rewards", NOW_QUERY, totals_of="accounts")
    sheet_from_query(book, con, "payout_history", HISTORY_QUERY)
    sheet_from_query(book, con, "adjustments", ADJUSTMENTS_QUERY)
    closes = month_closes(con)
    sheet_from_query(
        book,
        con,
        "accrual",
        "select * from marts.reward_accrual order by 1",
        below=lambda sheet: closes_table(sheet, closes, timezone),
    )
    book.save(path)


def _control_totals(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The summary's control totals (D67): labelled points, equal to the rewards sheet's totals
    row, plus what lies outside it (the pending run, adjustments waiting, accounts no longer in
    account_rewards, when there are any)."""
    (
        reward,
        paid,
        adjusted,
        unpaid,
        pending_run,
        pending,
        waiting,
        outside,
        outside_paid,
        outside_adjusted,
        outside_unpaid,
    ) = con.execute(CONTROL_TOTALS_QUERY).fetchall()[0]
    rows = [
        ("reward points (account_rewards)", reward, POINTS_FORMAT),
        ("points paid (approved payout runs)", paid, POINTS_FORMAT),
        ("adjustments paid (approved payout runs)", adjusted, POINTS_FORMAT),
        ("points unpaid (next publish, by the rules)", unpaid, POINTS_FORMAT),
        ("payout run pending approval", "none")
        if pending_run is None
        else ("payout run pending approval", pending_run, ID_FORMAT),
        ("points pending approval", pending, POINTS_FORMAT),
        ("adjustments waiting for a publish", waiting, POINTS_FORMAT),
        ("accounts paid, not in account_rewards", outside, POINTS_FORMAT),
    ]
    if outside:
        rows += [
            ("points paid, not in account_rewards", outside_paid, POINTS_FORMAT),
            ("adjustments paid, not in account_rewards", outside_adjusted, POINTS_FORMAT),
            ("points unpaid, not in account_rewards", outside_unpaid, POINTS_FORMAT),
        ]
    return rows


def _as_of_query(run_id: int, first_version: bool) -> str:
    """Run `run_id`'s rewards and lines; a first-version run's rewards are its accounts' points
    (the sum of their entries up to it, the first ledger's invariant)."""
    if first_version:
        rewards = f"""
            select account_id, cast(sum(points) as bigint) as reward_points
            from ledger_lines where payout_run_id <= {run_id} and entry_type <> 'adjustment'
            group by account_id
        """
    else:
        rewards = f"""
            select * exclude (payout_run_id) from payouts.ledger.run_rewards
            where payout_run_id = {run_id}
        """
    return f"""
        with rewards as ({rewards}),
        run_lines as (
            select
                account_id,
                max(entry_type) filter (where entry_type <> 'adjustment') as run_entry_type,
                coalesce(sum(points) filter (where entry_type <> 'adjustment'), 0) as run_points,
                coalesce(sum(points) filter (where entry_type = 'adjustment'), 0)
                    as run_adjustment_points
            from ledger_lines where payout_run_id = {run_id}
            group by account_id
        ),
        paid as (
            select
                account_id,
                sum(points) as paid_points,
                coalesce(sum(points) filter (where entry_type = 'adjustment'), 0)
                    as adjustment_points
            from ledger_lines where state = 'approved' and payout_run_id <= {run_id}
            group by account_id
        )
        select
            coalesce(rewards.account_id, run_lines.account_id) as account_id,
            rewards.* exclude (account_id),
            cast({run_id} as integer) as payout_run_id,
            (select state from ledger_runs where payout_run_id = {run_id}) as run_state,
            run_lines.run_entry_type,
            cast(coalesce(run_lines.run_points, 0) as bigint) as run_points,
            cast(coalesce(run_lines.run_adjustment_points, 0) as bigint) as run_adjustment_points,
            cast(coalesce(paid.paid_points, 0) as bigint) as paid_points,
            cast(coalesce(paid.adjustment_points, 0) as bigint) as adjustment_points
        from rewards
        full outer join run_lines on rewards.account_id = run_lines.account_id
        left join paid on coalesce(rewards.account_id, run_lines.account_id) = paid.account_id
        order by 1
    """


def export_payout_run(ledger: Path, run_id: int, out_file: Path) -> tuple[int, str, str | None]:
    """Write what payout run `run_id` paid and the rewards it was computed from, from the ledger
    alone; returns (accounts written, the run's state, a note for a first-version run)."""
    suffix = _check_format(out_file)
    require_ledger(ledger)

    def write(tmp: Path) -> tuple[int, dict[str, Any], bool]:
        with open_ledger(ledger) as (con, _):
            result = con.execute("select * from ledger_runs where payout_run_id = ?", [run_id])
            names = [d[0] for d in result.description]
            rows = result.fetchall()
            if not rows:
                raise no_such_run(con, run_id)
            header = dict(zip(names, rows[0], strict=True))
            rule_vars = json.loads(header["rule_vars"])
            con.execute(f"set TimeZone = {lit(rule_vars['timezone'])}")
            query = _as_of_query(run_id, header["is_first_version"])
            inputs = con.execute(
                "select dataset, file, size_bytes, rows_read, sha256 "
                "from payouts.ledger.payout_run_inputs where payout_run_id = ? "
                "order by dataset, file",
                [run_id],
            ).fetchall()
            described = _run_description(header, rule_vars, inputs)
            (count,) = con.execute(f"select count(*) from ({query})").fetchall()[0]
            if suffix == ".xlsx":
                _as_of_workbook(con, query, run_id, described, tmp)
            else:
                _copy(
                    con,
                    query,
                    tmp,
                    suffix,
                    {
                        k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                        for k, v in described.items()
                    },
                )
        return count, described, header["is_first_version"]

    count, described, first_version = write_file(out_file, write)
    if suffix == ".csv":  # CSV has no metadata: the run's description goes beside it
        write_file(
            run_description_file(out_file),
            lambda tmp: tmp.write_text(json.dumps(described, indent=2, ensure_ascii=False) + "\n"),
        )
    note = (
        f"payout run {run_id} was published by the first ledger version, which kept only "
        "points: its GMV columns are empty"
        if first_version
        else None
    )
    return count, described["state"], note


def run_description_file(out_file: Path) -> Path:
    """Where an as-of CSV's run description (state, rule vars, input files) is written."""
    return out_file.with_name(out_file.name + ".run.json")


RUN_DESCRIPTION = (
    "payout_run_id",
    "state",
    "published_at",
    "published_by",
    "published_os_user",
    "published_host",
    "decided_by",
    "decided_at",
    "decision_reason",
    "points",
    "paid_total",
    "dagster_run_id",
    "marts_built_at",
    "code_version",
    "inputs_sha256",
)


# the run description's instants (ISO-8601 text in the ledger), date-times in the workbook
INSTANTS = ("published_at", "decided_at", "marts_built_at")


def _run_description(header: dict, rule_vars: dict, inputs: list[tuple]) -> dict[str, Any]:
    described: dict[str, Any] = {key: header[key] for key in RUN_DESCRIPTION}
    described["rule_vars"] = rule_vars
    described["input_files"] = [
        dict(zip(("dataset", "file", "size_bytes", "rows_read", "sha256"), row, strict=True))
        for row in inputs
    ]
    return described


def _as_of_workbook(
    con: duckdb.DuckDBPyConnection, query: str, run_id: int, described: dict, path: Path
) -> None:
    from openpyxl import Workbook

    timezone = described["rule_vars"]["timezone"]
    book = Workbook(write_only=True)
    key_value_sheet(
        book,
        "summary",
        f"payout run {run_id}",
        [
            *(
                (k.replace("_", " "), local_datetime(v, timezone) if k in INSTANTS else v)
                for k, v in described.items()
                if k not in ("rule_vars", "input_files") and v is not None
            ),
            ("times are local to", timezone),
            *rule_var_rows(described["rule_vars"]),
        ],
    )
    sheet_from_query(book, con, f"payout_run_{run_id}", query)
    sheet_from_query(
        book,
        con,
        "input_files",
        "select dataset, file, size_bytes, rows_read, sha256 "
        f"from payouts.ledger.payout_run_inputs where payout_run_id = {run_id} "
        "order by dataset, file",
    )
    book.save(path)
