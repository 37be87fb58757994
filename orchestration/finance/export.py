"""`rewards export`: the published rewards as CSV, Parquet or Excel, for finance.

One row per enrolled account: `marts.account_rewards` from the serving copy (the last good run),
plus what the ledger has paid: `payout_run_id` (the latest payout run, empty before the first
publish), `paid_points` (the sum of the account's ledger rows) and `unpaid_points`
(reward_points - paid_points: positive, an increase the next publish will pay; negative, a
clawback). CSV and Parquet are written by DuckDB, exact to the cent; Parquet also carries the
payout run and build in its key-value metadata. The Excel workbook has a `summary` sheet (the
payout run, the build, `marts.program_summary`) before the `account_rewards` sheet. Every file is
written beside its target and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import duckdb

from .serving import has_ledger, open_serving_copy, read_build_info

FORMATS = (".csv", ".parquet", ".xlsx")
EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows below its header


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _export_query(con: duckdb.DuckDBPyConnection) -> tuple[str, int | None]:
    if (
        has_ledger(con)
        and con.execute(
            "select count(*) from duckdb_tables() where database_name = 'payouts' "
            "and schema_name = 'ledger' and table_name = 'payout_runs'"
        ).fetchone()[0]
    ):
        run_id = con.execute(
            "select max(payout_run_id) from payouts.ledger.payout_runs"
        ).fetchone()[0]
        paid = (
            "select account_id, sum(points) as paid_points from payouts.ledger.entries "
            "group by account_id"
        )
    else:
        run_id, paid = (
            None,
            (
                "select cast(null as varchar) as account_id, "
                "cast(0 as hugeint) as paid_points where false"
            ),
        )
    query = f"""
        select rewards.*,
            cast({run_id if run_id is not None else "null"} as integer) as payout_run_id,
            cast(coalesce(paid.paid_points, 0) as bigint) as paid_points,
            cast(rewards.reward_points - coalesce(paid.paid_points, 0) as bigint) as unpaid_points
        from marts.account_rewards as rewards
        left join ({paid}) as paid on rewards.account_id = paid.account_id
        order by rewards.account_id
    """
    return query, run_id


def export_rewards(serving_copy: Path, ledger: Path, out_file: Path) -> tuple[int, int | None]:
    """Write the file; returns (accounts written, payout run id or None)."""
    suffix = out_file.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out must end in {', '.join(FORMATS)}, got {out_file.name!r}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(f".{out_file.name}.tmp-{os.getpid()}")
    try:
        with open_serving_copy(serving_copy, ledger) as con:
            build = read_build_info(con)
            query, run_id = _export_query(con)
            count = con.execute(f"select count(*) from ({query})").fetchone()[0]
            if suffix == ".csv":
                con.execute(f"copy ({query}) to {_lit(str(tmp))} (format csv, header true)")
            elif suffix == ".parquet":
                meta = {
                    "payout_run_id": "" if run_id is None else str(run_id),
                    "dagster_run_id": build.dagster_run_id,
                    "marts_built_at": build.built_at,
                    "code_version": build.code_version,
                }
                kv = ", ".join(f"{k}: {_lit(v)}" for k, v in meta.items())
                con.execute(
                    f"copy ({query}) to {_lit(str(tmp))} (format parquet, kv_metadata {{{kv}}})"
                )
            else:
                if count > EXCEL_MAX_ROWS:
                    raise ValueError(
                        f"{count:,} accounts do not fit one Excel sheet; export .csv or .parquet"
                    )
                _write_xlsx(con, query, run_id, build, tmp)
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return count, run_id


def _write_xlsx(
    con: duckdb.DuckDBPyConnection, query: str, run_id: int | None, build, path: Path
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    summary = book.create_sheet("summary")
    bold = Font(bold=True)

    def header(sheet, names):
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary.column_dimensions["A"].width = 26
    summary.column_dimensions["B"].width = 44
    header(summary, ["short-video rewards", ""])
    for label, value in [
        ("payout run", "not published yet" if run_id is None else run_id),
        ("marts built by Dagster run", build.dagster_run_id),
        ("marts built at", build.built_at),
        ("code version", build.code_version),
        ("rule vars", json.dumps(build.rule_vars, sort_keys=True)),
    ]:
        summary.append([label, value])
    summary.append([])
    header(summary, ["metric", "breakdown", "value", "unit"])
    for metric, breakdown, value, unit in con.execute(
        "select metric, breakdown, value, unit from marts.program_summary "
        "order by position, breakdown"
    ).fetchall():
        summary.append([metric, breakdown, _excel_number(value, unit), unit])

    sheet = book.create_sheet("account_rewards")
    result = con.execute(query)
    columns = [d[0] for d in result.description]
    header(sheet, columns)
    while batch := result.fetchmany(10_000):
        for row in batch:
            sheet.append([_excel_value(v) for v in row])
    book.save(path)


def _excel_number(value: Decimal, unit: str):
    return int(value) if unit != "CNY" and value == value.to_integral_value() else value


def _excel_value(value):
    # Excel has no time zones: an instant is written as its ISO-8601 text, offset included.
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.isoformat()
    return value
