"""The finance walk-through on generated data: a whole payout cycle across two deliveries, then
reads while a run writes. Prints every `rewards` command it runs and what it printed.

    python3 -m uv run python bench/finance_demo.py [--dir /tmp/finance-demo] [--orders 1000000]

1. `rewards generate --dirty`, `rewards run`, `rewards ledger init --by alice`, `rewards
   publish --by alice` (payout run 1, pending); a second publish and alice's own approval are
   refused; `rewards approve 1 --by bob`; run 1's payment file (twice: byte-identical); the
   November close (and a refused second one); then the ledger moved away (publish and `ledger
   init` refused) and a zero-byte file in its place (explain refused), and put back.
2. carol records an adjustment (a dispute's outcome). A second delivery, one new orders file:
   full refunds of the ten largest counted window orders of the top uncapped new entrant, and
   late settlements of 200 paid window orders of the eligible account with most of them;
   `rewards run` (incremental), `rewards publish` (payout run 2: a clawback, an increase and the
   adjustment), `rewards approve 2 --by bob`, `rewards publish` again (nothing), the December
   close, `rewards ledger` (with November's true-up), `rewards explain` (the orders behind the
   clawback), and a check that every account is paid exactly its reward plus its approved
   adjustments.
3. Another adjustment, published as run 3 and rejected; the accrual (`marts.reward_accrual`),
   the statements, and `rewards export --payout-run 1` after runs 2 and 3.
4. `rewards run` again; while it holds the warehouse, `rewards export` (xlsx), `rewards
   explain`, `rewards statements` and `rewards simulate` (refused); then `rewards simulate` and
   `rewards run` started together (the run waits for the simulation).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import duckdb

from orchestration.warehouse_lock import duckdb_writer_pid

REWARDS = str(Path(sys.executable).parent / "rewards")
STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {text}", flush=True)


ENV: dict[str, str] = {}  # the children's environment: set once in main()


def rewards(*args: str, tail: int | None = None, head: int | None = None) -> str:
    say("$ rewards " + " ".join(args))
    done = subprocess.run([REWARDS, *args], capture_output=True, text=True, env=ENV)
    out = (done.stdout + done.stderr).rstrip()
    shown = out.splitlines()
    shown = shown[-tail:] if tail else shown[:head] if head else shown
    print("\n".join("    " + line for line in shown), flush=True)
    return out


def by_hand(serving: Path, delivery: Path, account: str) -> int:
    """The account's points after the delivery, from the published window GMV and baseline and
    the delivery's rows: each row replaces its order's settled GMV (R2, R3), then R7-R11."""
    con = duckdb.connect(str(serving), read_only=True)
    window, baseline, rate = con.execute(
        """
        select window_gmv, baseline_gmv,
            cast(json_extract_string(rule_vars, '$.reward_rate') as decimal(18, 6))
        from marts.account_rewards, serving.build where account_id = ?""",
        [account],
    ).fetchone()
    change = con.execute(
        f"""
        select sum(case when new.status = 'settled'
                        then cast(new.amount as decimal(18, 2))
                             - cast(new.refunded_amount as decimal(18, 2))
                        else 0 end - old.settled_gmv)
        from read_csv('{delivery}', all_varchar = true) as new
        join marts.reward_order_lines as old using (order_id)
        where new.account_id = ?""",
        [account],
    ).fetchone()[0]
    con.close()
    base = max(window + change - baseline, Decimal(0))
    points = int((base * rate).to_integral_value(ROUND_FLOOR))
    say(f"by hand, {account}: floor(max(0, {window} {change:+} - {baseline}) x {rate}) = {points}")
    return points


def second_delivery(serving: Path, out: Path) -> tuple[str, str]:
    con = duckdb.connect(str(serving), read_only=True)
    con.execute("set TimeZone = 'Asia/Shanghai'")
    refunded = con.execute("""
        select account_id from marts.account_rewards
        where is_eligible and is_new_entrant and not is_capped
        order by reward_points desc, account_id limit 1""").fetchone()[0]
    settled = con.execute("""
        select lines.account_id from marts.reward_order_lines as lines
        join marts.account_rewards using (account_id)
        where is_eligible and not is_capped and excluded_reason = 'not_yet_settled'
            and period = 'window'
        group by 1 order by count(*) desc, 1 limit 1""").fetchone()[0]
    ts = "strftime({}, '%Y-%m-%dT%H:%M:%S+08:00')"
    later = "'2026-03-01T09:00:00+08:00'"  # after every generated change-log row
    con.execute(
        f"""
        copy (
            select * from (
                select order_id, {later} as updated_at, {ts.format("created_at")} as created_at,
                    account_id, 'short_video' as channel, video_id, amount,
                    amount as refunded_amount, 'refunded' as status,
                    {ts.format("settled_at")} as settled_at
                from marts.reward_order_lines
                where account_id = ? and line_status = 'counted' and period = 'window'
                order by settled_gmv desc, order_id limit 10)
            union all
            select * from (
                select order_id, {later}, {ts.format("created_at")}, account_id, 'short_video',
                    video_id, amount, refunded_amount, 'settled', '2026-01-24T12:00:00+08:00'
                from marts.reward_order_lines
                where account_id = ? and excluded_reason = 'not_yet_settled' and period = 'window'
                order by order_id limit 200)
        ) to '{out}' (header)""",
        [refunded, settled],
    )
    con.close()
    return refunded, settled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/finance-demo"))
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    root = args.dir.resolve()
    shutil.rmtree(root, ignore_errors=True)
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    serving = root / "warehouse.serving.duckdb"
    ENV.update(
        {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("REWARDS_", "DAGSTER_HOME"))
            },
            "REWARDS_LANDING_DIR": str(landing),
            "REWARDS_WAREHOUSE": str(warehouse),
        }
    )

    say("1. first delivery, first payout run: published by alice, approved by bob")
    rewards("generate", "--out", str(landing), "--orders", str(args.orders), "--dirty", tail=1)
    rewards("run", tail=3)
    rewards("ledger", "init", "--by", "alice")
    rewards("publish", "--by", "alice")
    rewards("publish", "--by", "alice")  # refused: run 1 is pending
    rewards("approve", "1", "--by", "alice")  # refused: four eyes
    rewards("approve", "1", "--by", "bob")
    payment = root / "run1-payment.csv"
    rewards("export", "--payout-run", "1", "--payment-file", str(payment))
    say("$ head -3 " + payment.name)
    print("\n".join("    " + line for line in payment.read_text().splitlines()[:3]), flush=True)
    control = payment.with_name(payment.name + ".control.json")
    say("$ cat " + control.name)
    print("\n".join("    " + line for line in control.read_text().splitlines()), flush=True)
    again = root / "again" / payment.name
    rewards("export", "--payout-run", "1", "--payment-file", str(again))
    say(f"written twice, byte-identical: {again.read_bytes() == payment.read_bytes()}")
    rewards("close", "2025-11", "--by", "carol")
    rewards("close", "2025-11", "--by", "carol")  # refused: closed once

    say("1b. the ledger moved away: every finance command refuses, nothing is paid twice")
    ledger = root / "warehouse.ledger.duckdb"
    ledger.rename(root / "moved-away.duckdb")
    rewards("publish", "--by", "alice")
    rewards("ledger", "init", "--by", "mallory")
    ledger.write_bytes(b"")  # a zero-byte file in its place
    rewards("explain", "acct-000001", head=1)
    (root / "moved-away.duckdb").rename(ledger)

    say("2. an adjustment, then a second delivery: late refunds and late settlements")
    delivery = landing / "orders" / "orders_2026-03-01.csv"
    refunded, settled = second_delivery(serving, delivery)
    say(f"{delivery.name}: 10 full refunds of {refunded}, 200 settlements of {settled}")
    rewards(
        "adjust", refunded, "--points", "+50", "--reason",
        "dispute D-2026-014: two orders settled late by the platform", "--ref", "D-2026-014",
        "--by", "carol",
    )  # fmt: skip
    expected = {account: by_hand(serving, delivery, account) for account in (refunded, settled)}
    rewards("run", tail=3)
    rewards("publish", "--by", "alice")
    rewards("approve", "2", "--by", "bob")
    rewards("publish", "--by", "alice")
    rewards("close", "2025-12", "--by", "carol")
    rewards("ledger")
    rewards("explain", refunded, tail=18)
    out = root / "after-run-2.csv"
    rewards("export", "--out", str(out))
    con = duckdb.connect()
    accounts, differ = con.execute(
        f"select count(*), count(*) filter (where unpaid_points <> 0 "
        f"or paid_points <> reward_points + adjustment_points) from read_csv('{out}')"
    ).fetchone()
    paid = dict(
        con.execute(
            f"select account_id, reward_points from read_csv('{out}') where account_id in (?, ?)",
            [refunded, settled],
        ).fetchall()
    )
    con.close()
    say(f"accounts not paid exactly their reward and approved adjustments: {differ} of {accounts}")
    say(f"their rewards are what the hand computation says: {paid == expected}")

    say("3. a rejected run, the accrual, the statements, and run 1 re-read")
    rewards(
        "adjust", settled, "--points", "-20", "--reason", "goodwill reversed: duplicate ticket",
        "--by", "carol",
    )  # fmt: skip
    rewards("publish", "--by", "alice")
    rewards("reject", "3", "--by", "bob", "--reason", "the ticket was not a duplicate")
    con = duckdb.connect(str(serving), read_only=True)
    for row in con.execute(
        "select accrual_date, days_elapsed, window_gmv_to_date, points_to_date, "
        "projected_points, accounts_earning from marts.reward_accrual "
        "where accrual_date in (select max(accrual_date) from marts.reward_accrual) "
        "or days_elapsed in (10, 20, 30) order by 1"
    ).fetchall():
        say(f"marts.reward_accrual {row}")
    con.close()
    rewards("statements", "--out", str(root / "statements"))
    rewards("export", "--payout-run", "1", "--out", str(root / "run1.csv"))

    say("4. reads while a run writes")
    with open(root / "run3.log", "w") as log:
        run = subprocess.Popen([REWARDS, "run"], stdout=log, stderr=subprocess.STDOUT, env=ENV)
    while duckdb_writer_pid(warehouse) != run.pid:
        time.sleep(0.1)
    say(f"rewards run (pid {run.pid}) holds DuckDB's write lock on the warehouse")
    rewards("export", "--out", str(root / "during.xlsx"))
    rewards("explain", refunded, head=1)
    rewards("statements", "--out", str(root / "statements-during"))
    rewards("simulate", "--var", "reward_rate=0.02")
    say(f"the run is still going: {run.poll() is None}")
    say(
        f"rewards run exited {run.wait()}; "
        + next(
            line for line in (root / "run3.log").read_text().splitlines() if "reward points" in line
        ).strip()
    )

    say("5. simulate and a run started together: the run waits for the simulation")
    with open(root / "run4.log", "w") as log:
        sim = subprocess.Popen(
            [REWARDS, "simulate", "--var", "reward_rate=0.02"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=ENV,
        )
        run = subprocess.Popen([REWARDS, "run"], stdout=log, stderr=subprocess.STDOUT, env=ENV)
        say(f"simulate exited {sim.wait()}, rewards run exited {run.wait()}")
    waited = [line for line in (root / "run4.log").read_text().splitlines() if "waiting" in line]
    say(f"the run's log: {waited[0].strip() if waited else 'it never had to wait'}")


if __name__ == "__main__":
    main()
