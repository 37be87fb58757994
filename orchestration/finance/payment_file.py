"""`rewards export --payout-run N --payment-file FILE.csv`: the approved lines of one payout run,
for the platform's crediting system (D49).

One row per line of the run: each account's rule-based line (`initial`, `increase`, `clawback`)
and each adjustment it carried (`adjustment`), with the signed points, the account's type as the
run's rewards had it, and an idempotency key. The key is derived from the ledger's identity,
the run, the account, the line type and the adjustment, so the same line always has the same
key: a crediting system that refuses a key it has seen cannot pay a re-sent file twice, and
lines of another ledger never collide with these. Beside the file, `FILE.csv.control.json`
holds the control totals (rows, points net, credited and debited), the run's approval and the
file's SHA-256.

Only an approved run is paid, so only an approved run has a payment file: a pending or a
rejected run is refused in one line. Everything written comes from the ledger alone, in a fixed
order: written twice, the file and its control are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..formatting import lit
from .ledger import LedgerError
from .ledger.chain import ledger_identity
from .ledger.history import no_such_run, open_ledger, require_ledger
from .ledger.schema import existing_tables
from .writing import copy_query, write_file

KEY_PREFIX = "svr1-"
COLUMNS = (
    "idempotency_key",
    "payout_run_id",
    "account_id",
    "account_type",
    "line_type",
    "adjustment_id",
    "points",
)


@dataclass(frozen=True)
class PaymentFile:
    path: Path
    control: Path
    rows: int
    points: int
    credited: int
    debited: int


def control_file(out_file: Path) -> Path:
    return out_file.with_name(out_file.name + ".control.json")


def idempotency_key(
    ledger_id: str, run_id: int, account_id: str, line_type: str, adjustment_id: int | None
) -> str:
    """The line's key: the same for the same line of the same ledger, whatever writes it (the
    query below computes the same in DuckDB)."""
    text = "\t".join(
        [
            ledger_id,
            str(run_id),
            account_id,
            line_type,
            "" if adjustment_id is None else str(adjustment_id),
        ]
    )
    return KEY_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


def _lines_query(ledger_id: str, run_id: int, has_rewards: bool) -> str:
    """The run's non-zero lines as the file's rows, keyed as `idempotency_key` keys them."""
    types = (
        f"""left join (
            select account_id, account_type from payouts.ledger.run_rewards
            where payout_run_id = {run_id}
        ) as types on lines.account_id = types.account_id"""
        if has_rewards
        else "left join (select null as account_id, null as account_type) as types on false"
    )
    key = (
        f"{lit(KEY_PREFIX)} || substr(sha256(concat_ws(chr(9), {lit(ledger_id)}, "
        f"'{run_id}', lines.account_id, lines.entry_type, "
        "coalesce(cast(lines.adjustment_id as varchar), ''))), 1, 32)"
    )
    return f"""
        select
            {key} as idempotency_key,
            cast({run_id} as integer) as payout_run_id,
            lines.account_id,
            types.account_type,
            lines.entry_type as line_type,
            lines.adjustment_id,
            lines.points
        from ledger_lines as lines
        {types}
        where lines.payout_run_id = {run_id} and lines.points <> 0
        order by lines.account_id, lines.entry_type = 'adjustment', lines.adjustment_id
    """


def write_payment_file(ledger: Path, run_id: int, out_file: Path) -> PaymentFile:
    """Write payout run `run_id`'s payment file and its control, each beside its target and
    renamed into place."""
    if out_file.suffix.lower() != ".csv":
        raise ValueError(f"--payment-file must end in .csv, got {out_file.name!r}")
    require_ledger(ledger)
    with open_ledger(ledger) as (con, _):
        run = con.execute(
            "select state, decided_by, decided_at, published_by, published_at "
            "from ledger_runs where payout_run_id = ?",
            [run_id],
        ).fetchone()
        if run is None:
            raise no_such_run(con, run_id)
        state, decided_by, decided_at, published_by, published_at = run
        if state != "approved":
            raise LedgerError(
                f"payout run {run_id} is {state}: only an approved run is paid, so only an "
                "approved run has a payment file"
                + (
                    f" (`rewards approve {run_id} --by NAME` first)"
                    if state == "pending"
                    else f" (rejected by {decided_by}: it pays nothing)"
                )
            )
        ledger_id = ledger_identity(con, "payouts.ledger")
        has_rewards = "run_rewards" in existing_tables(con, "payouts.ledger")
        query = _lines_query(ledger_id, run_id, has_rewards)
        rows, total, credited, debited = con.execute(
            "select count(*), coalesce(sum(points), 0), "
            "coalesce(sum(points) filter (where points > 0), 0), "
            f"coalesce(sum(points) filter (where points < 0), 0) from ({query})"
        ).fetchone()

        def write(tmp: Path) -> str:
            copy_query(con, query, tmp, "format csv, header true")
            with open(tmp, "rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()

        digest = write_file(out_file, write)
    control = {
        "file": out_file.name,
        "sha256": digest,
        "payout_run_id": run_id,
        "ledger_id": ledger_id,
        "published_by": published_by,
        "published_at": published_at,
        "approved_by": decided_by,
        "approved_at": decided_at,
        "rows": rows,
        "points_total": int(total),
        "points_credited": int(credited),
        "points_debited": int(debited),
        "idempotency_key": "svr1- and the first 32 hex digits of the SHA-256 of ledger_id, "
        "payout_run_id, account_id, line_type and adjustment_id (empty for other lines), "
        "joined by tabs",
    }
    control_path = control_file(out_file)
    write_file(
        control_path,
        lambda tmp: tmp.write_text(json.dumps(control, indent=2, ensure_ascii=False) + "\n"),
    )
    return PaymentFile(out_file, control_path, rows, int(total), int(credited), int(debited))
