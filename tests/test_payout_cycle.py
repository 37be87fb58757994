"""The payout cycle through the `rewards` commands, on the finance landing's two real pipeline
runs (tests/support/finance_cases.py): four-eyes approval, rejection, manual adjustments, the
digest chain over all of it, re-reading any past run, and a ledger written by the first ledger
version.

The story, with every number by hand (rewards per finance_cases: day 1 fin_a 15, fin_b 24;
day 2 fin_a 9, fin_b 39; fin_c and the odd id 0):
1. carol records +5 for fin_a (goodwill, T-100) while day 1 is served.
2. alice publishes: run 1, pending: fin_a initial +15, fin_b initial +24, adjustment +5: +44.
   A second publish is refused while it is pending; alice (the publisher) and carol (who asked
   for the adjustment it carries) may not approve it; bob does.
3. Day 2 is served; alice publishes run 2: fin_a clawback -6 (15 -> 9: the rule-based line
   only; the +5 stays), fin_b increase +15; bob approves. fin_a is paid 15 + 5 - 6 = 14.
4. A stale copy of day 1 is served by mistake; alice publishes run 3 (fin_a +6, fin_b -15);
   bob rejects it. Day 2 served again: nothing to publish, since the deltas are taken against
   the approved runs 1 and 2, not against the rejected 3.
5. carol records -10 for fin_b (dispute D-7); dave publishes run 4 carrying only it; bob
   rejects it: fin_b stays paid 39.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import shutil
import socket
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from support import ledger_v1
from support.finance_cases import WEIRD_ACCOUNT
from support.finance_desk import Desk, rewards
from support.html_page import Page
from support.pipeline import query

from orchestration.finance.closes import month_closes
from orchestration.finance.ledger import LedgerError, publish, verify
from orchestration.finance.ledger.history import read_ledger
from orchestration.finance.ledger.schema import Actor
from orchestration.finance.payment_file import idempotency_key
from orchestration.finance.serving import open_serving_copy


@pytest.fixture(scope="module")
def cycle(finance_runs, tmp_path_factory):
    desk = Desk(tmp_path_factory.mktemp("cycle"), finance_runs)
    seen: dict[str, object] = {"desk": desk}
    desk.serve(1)
    seen["init"] = desk.ok("ledger", "init", "--by", "alice")
    seen["adjust1"] = desk.ok(
        "adjust", "fin_a", "--points", "5", "--reason", "goodwill: settlement delayed by us",
        "--by", "carol", "--ref", "T-100",
    )  # fmt: skip
    seen["publish1"] = desk.ok("publish", "--by", "alice")
    seen["publish_while_pending"] = desk.run("publish", "--by", "alice")
    seen["approve_by_publisher"] = desk.run("approve", "1", "--by", "Alice ")
    seen["approve_by_requester"] = desk.run("approve", "1", "--by", "carol")
    seen["export_pending"] = _export(desk, "pending.csv")
    seen["payment_file_pending"] = desk.run(
        "export", "--payout-run", "1", "--payment-file", str(desk.warehouse.parent / "p.csv")
    )
    seen["approve1"] = desk.ok("approve", "1", "--by", "bob")
    seen["export_after_1"] = _export(desk, "after1.csv")
    seen["close_nov"] = desk.ok("close", "2025-11", "--by", "carol")
    seen["close_dec"] = desk.ok("close", "2025-12", "--by", "carol")
    seen["close_dec_again"] = desk.run("close", "2025-12", "--by", "carol")

    desk.serve(2)
    seen["explain_a_unpublished"] = desk.ok("explain", "fin_a")
    seen["publish2"] = desk.ok("publish", "--by", "alice")
    seen["approve2"] = desk.ok("approve", "2", "--by", "bob")
    seen["export_after_2"] = _export(desk, "after2.csv")

    desk.serve(1)  # a stale copy, by mistake
    seen["publish3"] = desk.ok("publish", "--by", "alice")
    seen["reject3"] = desk.ok("reject", "3", "--by", "bob", "--reason", "a stale copy of day 1")
    desk.serve(2)
    seen["publish_after_reject"] = desk.ok("publish", "--by", "alice")

    seen["adjust2"] = desk.ok(
        "adjust", "fin_b", "--points", "-10", "--reason", "dispute D-7: refunded off-platform",
        "--by", "carol",
    )  # fmt: skip
    seen["publish4"] = desk.ok("publish", "--by", "dave")
    seen["reject4"] = desk.ok("reject", "4", "--by", "bob", "--reason", "no refund receipt yet")
    seen["export_after_4"] = _export(desk, "after4.csv")
    seen["ledger"] = desk.ok("ledger")
    seen["explain_a"] = desk.ok("explain", "fin_a")
    seen["explain_b"] = desk.ok("explain", "fin_b")
    return seen


def _export(desk: Desk, name: str) -> dict[str, tuple]:
    out = desk.warehouse.parent / name
    desk.ok("export", "--out", str(out))
    rows = duckdb.sql(
        "select account_id, reward_points, paid_points, adjustment_points, unpaid_points, "
        f"payout_run_id from read_csv('{out}', all_varchar = true)"
    ).fetchall()
    return {r[0]: tuple(None if v is None else int(v) for v in r[1:]) for r in rows}


def _entries(ledger: Path) -> list[tuple]:
    return query(
        ledger,
        "select payout_run_id, account_id, entry_type, points from ledger.entries "
        "union all select payout_run_id, account_id, 'adjustment', points "
        "from ledger.adjustment_entries order by 1, 2, 3",
    )


def test_publish_records_a_pending_run_that_someone_else_approves(cycle):
    assert "payout run 1 published by alice, pending approval" in cycle["publish1"]
    assert "+44 points" in cycle["publish1"]
    code, out = cycle["publish_while_pending"]
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert "payout run 1 (published by alice at " in out and "is pending approval" in out
    code, out = cycle["approve_by_publisher"]
    assert code == 2 and "payout run 1 was published by alice: someone else must approve it" in out
    code, out = cycle["approve_by_requester"]
    assert code == 2 and "carries adjustment 1, recorded by carol" in out
    assert "payout run 1 approved by bob (published by alice): +44 points" in cycle["approve1"]
    # pending runs pay nothing: after approval, fin_a is paid its 15 and the 5 of goodwill
    assert cycle["export_pending"]["fin_a"] == (15, 0, 0, 15, None)
    assert cycle["export_after_1"]["fin_a"] == (15, 20, 5, 0, 1)
    assert cycle["export_after_1"]["fin_b"] == (24, 24, 0, 0, 1)


def test_a_later_clawback_never_takes_an_adjustment_back(cycle):
    assert _entries(cycle["desk"].ledger)[:5] == [
        (1, "fin_a", "adjustment", 5),
        (1, "fin_a", "initial", 15),
        (1, "fin_b", "initial", 24),
        (2, "fin_a", "clawback", -6),
        (2, "fin_b", "increase", 15),
    ]
    # fin_a: rule-based 15 - 6 = 9 (its reward) plus the approved +5
    assert cycle["export_after_2"]["fin_a"] == (9, 14, 5, 0, 2)
    assert cycle["export_after_2"]["fin_b"] == (39, 39, 0, 0, 2)


def test_after_a_rejection_the_next_publish_starts_from_the_last_approved_state(cycle):
    assert "fin_a" not in cycle["reject3"]
    assert (
        "payout run 3 rejected by bob: its -9 points are not paid; paid in total 53"
        in (cycle["reject3"])
    )
    # day 2 again: equal to what runs 1 and 2 pay, whatever the rejected run 3 proposed
    assert cycle["publish_after_reject"].startswith("nothing to publish")
    # the adjustment-only run 4 was rejected: fin_b keeps 39, its -10 is not paid
    assert cycle["export_after_4"]["fin_b"] == (39, 39, 0, 0, 2)
    assert cycle["export_after_4"]["fin_a"] == (9, 14, 5, 0, 2)
    assert query(
        cycle["desk"].ledger,
        "select payout_run_id, event, declared_by, reason from ledger.run_events order by 1, 2",
    ) == [
        (1, "approved", "bob", None),
        (1, "published", "alice", None),
        (2, "approved", "bob", None),
        (2, "published", "alice", None),
        (3, "published", "alice", None),
        (3, "rejected", "bob", "a stale copy of day 1"),
        (4, "published", "dave", None),
        (4, "rejected", "bob", "no refund receipt yet"),
    ]


def test_every_ledger_row_records_the_os_user_and_host_beside_the_name(cycle):
    ledger = cycle["desk"].ledger
    who = {(getpass.getuser(), socket.gethostname())}
    assert set(query(ledger, "select distinct os_user, host from ledger.run_events")) == who
    assert set(query(ledger, "select distinct os_user, host from ledger.adjustments")) == who


def test_ledger_shows_each_runs_state_publisher_and_decider(cycle):
    lines = cycle["ledger"].splitlines()
    runs = {line.split()[0]: line.split() for line in lines[1:5]}
    # run, state, published at, by, decided by, accounts, points, paid total
    assert [runs[r][:2] + runs[r][3:8] for r in "1234"] == [
        ["1", "approved", "alice", "bob", "2", "+44", "44"],
        ["2", "approved", "alice", "bob", "2", "+9", "53"],
        ["3", "rejected", "alice", "bob", "2", "-9", "53"],
        ["4", "rejected", "dave", "bob", "0", "-10", "53"],
    ]
    assert "rejected: a stale copy of day 1" in lines[3]
    # the head is the last record written: run 4's rejection
    ((head,),) = query(
        cycle["desk"].ledger, "select sha256 from ledger.run_events order by event_id desc limit 1"
    )
    assert lines[-1] == f"digest chain verified; head {head}"


def test_explain_shows_states_and_each_adjustment_with_reason_reference_and_approver(cycle):
    text = cycle["explain_a"]
    for line in [
        ", approved by bob): initial    +15",
        ', approved by bob): adjustment +5 "goodwill: settlement delayed by us" '
        "(adjustment 1, ref T-100, asked by carol)",
        ", approved by bob): clawback   -6",
        ", rejected by bob: not paid): increase   +6",
        "paid to date 14 of 14 (rule-based 9, adjustments +5)",
    ]:
        assert line in text, f"{line!r} not in:\n{text}"
    assert ', rejected by bob: not paid): adjustment -10 "dispute D-7' in cycle["explain_b"]
    assert "paid to date 39 of 39" in cycle["explain_b"]


def test_explain_says_which_orders_changed_behind_a_clawback_and_an_increase(cycle):
    """D48: day 2 refunds 400.00 of fin_a's 1,000.00 window order (15 -> 9 points: clawback -6)
    and brings fin_b a new 1,000.00 window sale (24 -> 39: increase +15). Each run-2 line says
    which orders changed since run 1 and by how much; before run 2 was published, the next
    publish's -6 said the same against the serving copy (paid 15 + 5, owed 9 + 5)."""
    refund = (
        "        o-fin_a-1 (window, created 2025-12-01): counted 1,000.00 -> 600.00 "
        "(settled, 400.00 of 1,000.00 refunded)"
    )
    clawback = cycle["explain_a"].splitlines()
    at = next(i for i, line in enumerate(clawback) if line.endswith("clawback   -6"))
    assert clawback[at + 1 : at + 3] == [
        "      since payout run 1: window GMV -400.00 in 1 order",
        refund,
    ]
    # the rejected run 3 (a stale day 1) would have put it back: against run 2, approved
    at = next(i for i, line in enumerate(clawback) if line.endswith("increase   +6"))
    assert clawback[at + 1] == "      since payout run 2: window GMV +400.00 in 1 order"
    increase = cycle["explain_b"].splitlines()
    at = next(i for i, line in enumerate(increase) if line.endswith("increase   +15"))
    assert increase[at + 1 : at + 3] == [
        "      since payout run 1: window GMV +1,000.00 in 1 order",
        "        fin_b-late (window, created 2025-12-20): counted 0.00 -> 1,000.00 (settled)",
    ]
    unpublished = cycle["explain_a_unpublished"].splitlines()
    assert unpublished[-3:] == [
        "  paid to date 20 of 14 (rule-based 15, adjustments +5); the next publish adjusts by -6",
        "      since payout run 1: window GMV -400.00 in 1 order",
        refund,
    ]


def test_a_statement_shows_the_payees_money_and_nothing_internal(cycle, tmp_path):
    """D66, on a copy of the cycle's ledger (runs 3 and 4 rejected) to which carol adds fin_a
    +2 (T-200), carried by alice's run 5, pending, and fin_b +7, which no run carries yet.
    fin_a's statement, by hand: run 1 initial +15 and its adjustment +5 (T-100), run 2
    clawback -6, all paid; run 5's +2 pending; paid 15 + 5 - 6 = 14 of 9 + 5 = 14. fin_b's:
    run 1 +24 and run 2 +15, paid 39 of 39. Not there: run 3's lines (fin_a increase +6, fin_b
    clawback -15), run 4's rejected -10 and its reason, the +7 still waiting, any rejection's
    reason, and anyone's name."""
    desk = Desk(tmp_path, cycle["desk"].runs)
    shutil.copyfile(cycle["desk"].serving, desk.serving)
    shutil.copyfile(cycle["desk"].ledger, desk.ledger)
    desk.ok("adjust", "fin_a", "--points", "2", "--reason", "goodwill: late delivery",
        "--ref", "T-200", "--by", "carol")  # fmt: skip
    assert "payout run 5 published by alice, pending approval" in desk.ok(
        "publish", "--by", "alice"
    )
    desk.ok("adjust", "fin_b", "--points", "7", "--reason", "not carried yet", "--by", "carol")
    desk.ok("statements", "--out", str(tmp_path / "statements"))
    fin_a, fin_b = (
        Page((tmp_path / "statements" / f"{a}.html").read_text(encoding="utf-8")).words
        for a in ("fin_a", "fin_b")
    )
    for expected in [
        "首次发放 initial +15 已发放 paid 应得 reward 15",
        "人工调整 adjustment +5 已发放 paid “goodwill: settlement delayed by us” · 工单 ref T-100",
        "追回 clawback -6 已发放 paid 应得 reward 9",
        "人工调整 adjustment +2 待审批，尚未发放 pending approval, not paid yet "
        "“goodwill: late delivery” · 工单 ref T-200",
        "累计已发放 Paid to date 14 / 14 积分 points",
        "待审批 Pending approval +2 积分 points",
    ]:
        assert expected in fin_a, f"{expected!r} not in:\n{fin_a}"
    assert fin_a.count("已发放 paid") == 3 and "补发 increase +6" not in fin_a
    # behind run 2's clawback, the order that changed since run 1 (D48): 400.00 of its
    # 1,000.00 refunded on day 2
    assert (
        "追回 clawback -6 已发放 paid 应得 reward 9 自第 1 批发放以来 since payout run 1: "
        "活动期 GMV window GMV -400.00； 1 笔订单变化 1 order changed"
    ) in fin_a
    assert (
        "o-fin_a-1 活动期 window 2025-12-01 1,000.00 600.00 settled，退款 refunded "
        "400.00 / 1,000.00"
    ) in fin_a
    assert fin_a.count("1 order changed") == 1, fin_a  # under the clawback, not the adjustments
    for expected in [
        "首次发放 initial +24 已发放 paid 应得 reward 24",
        "补发 increase +15 已发放 paid 应得 reward 39",
        "累计已发放 Paid to date 39 / 39 积分 points",
    ]:
        assert expected in fin_b, f"{expected!r} not in:\n{fin_b}"
    assert fin_b.count("已发放 paid") == 2 and "pending" not in fin_b
    internal = ["alice", "bob", "carol", "dave", "rejected", "已驳回", "stale copy"]
    internal += ["no refund receipt", "dispute D-7", "not carried yet", "追回 clawback -15"]
    for words in (fin_a, fin_b):
        for text in internal:
            assert text not in words, f"{text!r} in:\n{words}"


def test_adjustments_are_refused_with_one_line(cycle):
    desk = cycle["desk"]
    for args, says in [
        (("nobody", "--points", "5", "--reason", "x"), "nobody is not an enrolled account"),
        (("fin_a", "--points", "0", "--reason", "x"), "--points must not be 0"),
        (("fin_a", "--points", "5", "--reason", "   "), "--reason must say why"),
        (("fin_c", "--points", "-1", "--reason", "x"), "would take its total below zero"),
    ]:
        code, out = desk.run("adjust", *args, "--by", "carol")
        assert code == 2 and says in out and len(out.strip().splitlines()) == 1, out
    code, out = desk.run("approve", "2", "--by", "erin")
    assert code == 2 and "payout run 2 is not pending: it was approved by bob" in out
    code, out = desk.run("approve", "9", "--by", "erin")
    assert code == 2 and "there is no payout run 9 in the ledger (runs 1 to 4)" in out
    code, out = desk.run("reject", "9", "--by", "erin", "--reason", " ")
    assert code == 2 and "--reason must say why the run is rejected" in out
    # nothing was written by a refusal
    assert query(desk.ledger, "select count(*) from ledger.adjustments") == [(2,)]


def test_the_digest_chain_detects_an_edited_approval(cycle, tmp_path):
    edited = tmp_path / "warehouse.ledger.duckdb"
    shutil.copyfile(cycle["desk"].ledger, edited)
    with duckdb.connect(str(edited)) as con:
        con.execute(
            "update ledger.run_events set declared_by = 'alice' "
            "where payout_run_id = 2 and event = 'approved'"
        )
    shutil.copyfile(cycle["desk"].serving, tmp_path / "warehouse.serving.duckdb")
    message = "the approval of payout run 2 no longer matches its recorded digest"
    with pytest.raises(LedgerError, match=message):
        publish(tmp_path / "warehouse.serving.duckdb", edited, Actor("x", "x", "x"))
    code, out = rewards("ledger", "--warehouse", str(tmp_path / "warehouse.duckdb"))
    assert code == 2 and message in out
    # a deleted rejection, too: run 4's publish record no longer follows run 3's decision
    shutil.copyfile(cycle["desk"].ledger, edited)
    with duckdb.connect(str(edited)) as con:
        con.execute("delete from ledger.run_events where event = 'rejected' and payout_run_id = 3")
        with pytest.raises(LedgerError, match="payout run 4 no longer matches"):
            verify(con)


def test_export_as_of_run_1_after_runs_2_3_and_4(cycle, tmp_path):
    desk = cycle["desk"]
    out = tmp_path / "run1.csv"
    assert "wrote 4 accounts" in desk.ok("export", "--payout-run", "1", "--out", str(out))
    rows = {
        r[0]: r[1:]
        for r in duckdb.sql(
            "select account_id, reward_points, window_gmv::varchar, run_entry_type, run_points, "
            f"run_adjustment_points, paid_points, run_state from read_csv('{out}')"
        ).fetchall()
    }
    assert rows == {
        "fin_a": (15, "1000.00", "initial", 15, 5, 20, "approved"),
        "fin_b": (24, "2000.00", "initial", 24, 0, 24, "approved"),
        "fin_c": (0, "500.00", None, 0, 0, 0, "approved"),
        WEIRD_ACCOUNT: (0, "0.00", None, 0, 0, 0, "approved"),
    }
    described = json.loads((tmp_path / "run1.csv.run.json").read_text())
    assert (described["payout_run_id"], described["state"], described["published_by"]) == (
        1,
        "approved",
        "alice",
    )
    assert described["decided_by"] == "bob" and described["rule_vars"]["reward_rate"] == "0.015"
    # day 1's inputs: no day-2 order file, each file with its SHA-256
    orders = [f for f in described["input_files"] if f["dataset"] == "orders"]
    assert [Path(f["file"]).name for f in orders] == ["orders.csv"]
    assert all(len(f["sha256"]) == 64 for f in described["input_files"])
    # run 3, rejected: what it proposed, and what was paid as of it (runs 1 and 2)
    parquet = tmp_path / "run3.parquet"
    desk.ok("export", "--payout-run", "3", "--out", str(parquet))
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    assert json.loads(table.schema.metadata[b"rule_vars"])["campaign_start"] == "2025-11-22"
    assert table.schema.metadata[b"state"] == b"rejected"
    fin_a = [r for r in table.to_pylist() if r["account_id"] == "fin_a"][0]
    assert (fin_a["reward_points"], fin_a["run_points"], fin_a["paid_points"]) == (15, 6, 14)
    assert fin_a["window_gmv"] == Decimal("1000.00")
    code, out = desk.run("export", "--payout-run", "7", "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "there is no payout run 7" in out


def test_a_first_version_ledger_keeps_verifying_and_the_next_publish_extends_it(
    finance_runs, tmp_path
):
    """A ledger written by the first ledger version (its writer, kept verbatim): both runs count
    as approved (they were paid), the chain verifies, approval is refused as moot, and the next
    publish -- pending, deltas against the old runs -- extends the same chain."""
    desk = Desk(tmp_path, finance_runs)
    desk.serve(1)
    assert ledger_v1.publish(desk.serving, desk.ledger).payout_run_id == 1
    desk.serve(2)
    assert ledger_v1.publish(desk.serving, desk.ledger).payout_run_id == 2
    before = query(desk.ledger, "select * from ledger.payout_runs order by 1")

    listing = desk.ok("ledger").splitlines()
    assert [line.split()[:2] for line in listing[1:3]] == [["1", "approved"], ["2", "approved"]]
    assert "(first ledger)" in listing[1]
    assert "runs written before approvals were recorded count as approved" in listing[3]
    code, out = desk.run("approve", "2", "--by", "bob")
    assert code == 2 and "published before approvals were recorded and counts as approved" in out
    assert "paid to date 9 of 9" in desk.ok("explain", "fin_a")
    assert _export(desk, "now.csv")["fin_b"] == (39, 39, 0, 0, 2)
    out = desk.ok("export", "--payout-run", "1", "--out", str(tmp_path / "old.csv"))
    assert "note: payout run 1 was published by the first ledger version" in out
    assert duckdb.sql(
        f"select account_id, reward_points, run_points from read_csv('{tmp_path / 'old.csv'}') "
        "order by 1"
    ).fetchall() == [("fin_a", 15, 15), ("fin_b", 24, 24)]

    desk.serve(1)  # a stale copy: run 3 claws day 2 back, against the first version's runs
    assert "payout run 3 published by alice, pending approval" in desk.ok(
        "publish", "--by", "alice"
    )
    desk.ok("approve", "3", "--by", "bob")
    assert query(desk.ledger, "select * from ledger.payout_runs where payout_run_id < 3") == before
    assert query(
        desk.ledger,
        "select account_id, entry_type, points from ledger.entries where payout_run_id = 3 "
        "order by 1",
    ) == [("fin_a", "increase", 6), ("fin_b", "clawback", -15)]
    with duckdb.connect(str(desk.ledger), read_only=True) as con:
        assert verify(con) is not None


def test_the_payment_file_of_an_approved_run(cycle, tmp_path):
    """D49: one row per line of the run with a stable idempotency key; control totals and the
    file's SHA-256 beside it; byte-identical when written again; refused for a pending or a
    rejected run. Run 1: fin_a initial +15 and adjustment 1 +5, fin_b initial +24 (+44); run 2:
    fin_a clawback -6, fin_b increase +15 (+9: 15 credited, 6 debited)."""
    desk = cycle["desk"]
    first, again = tmp_path / "run2.csv", tmp_path / "again" / "run2.csv"
    out = desk.ok("export", "--payout-run", "2", "--payment-file", str(first))
    assert f"wrote 2 lines of payout run 2 to {first}: +9 points (+15 credited, -6 debited)" in out
    desk.ok("export", "--payout-run", "2", "--payment-file", str(again))
    assert first.read_bytes() == again.read_bytes()
    control = json.loads((tmp_path / "run2.csv.control.json").read_text())
    assert (tmp_path / "again" / "run2.csv.control.json").read_text() == json.dumps(
        control, indent=2, ensure_ascii=False
    ) + "\n"
    assert control["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert (control["rows"], control["points_total"], control["approved_by"]) == (2, 9, "bob")
    ((ledger_id,),) = query(desk.ledger, "select sha256 from ledger.ledger_starts")
    assert control["ledger_id"] == ledger_id
    rows = duckdb.sql(
        "select idempotency_key, payout_run_id, account_id, account_type, line_type, "
        f"adjustment_id, points from read_csv('{first}', all_varchar = true)"
    ).fetchall()
    assert [r[1:] for r in rows] == [
        ("2", "fin_a", "merchant", "clawback", None, "-6"),
        ("2", "fin_b", "promoter", "increase", None, "15"),
    ]
    assert [r[0] for r in rows] == [
        idempotency_key(ledger_id, 2, "fin_a", "clawback", None),
        idempotency_key(ledger_id, 2, "fin_b", "increase", None),
    ]
    run1 = tmp_path / "run1.csv"
    desk.ok("export", "--payout-run", "1", "--payment-file", str(run1))
    lines = duckdb.sql(
        "select idempotency_key, account_id, line_type, adjustment_id, points "
        f"from read_csv('{run1}')"
    ).fetchall()
    assert [r[1:] for r in lines] == [
        ("fin_a", "initial", None, 15),
        ("fin_a", "adjustment", 1, 5),
        ("fin_b", "initial", None, 24),
    ]
    assert len({r[0] for r in lines + rows}) == 5  # every line its own key
    code, out = cycle["payment_file_pending"]
    assert code == 2 and "payout run 1 is pending: only an approved run is paid" in out
    for run in ("3", "4"):
        code, out = desk.run(
            "export", "--payout-run", run, "--payment-file", str(tmp_path / "x.csv")
        )
        assert code == 2 and len(out.strip().splitlines()) == 1
        assert f"payout run {run} is rejected" in out and "rejected by bob: it pays nothing" in out
    assert not (tmp_path / "x.csv").exists()


def test_a_month_close_stays_booked_and_a_later_run_shows_its_true_up(cycle, tmp_path):
    """D50. Closed on day 1 (finance_cases: day 1's accrual ends on 2025-12-06, the last day
    with a counted order): November has nothing counted (0 points); December books the
    accrual of 2025-12-06: fin_a floor(1,000.00 x 0.015) = 15 + fin_b floor((2,000.00 - 400.00)
    x 0.015) = 24 = 39 points; projected (day 15 of 40) fin_a 1,000.00 x 40 / 15 = 2,666.67 ->
    40, fin_b 5,333.33 - 400.00 -> floor(73.99995) = 73: 113; window GMV 1,000 + 2,000 + 500
    (fin_c, ineligible) = 3,500.00. On day 2 the accrual for 2025-12-31 is that of 2025-12-20:
    48 points, 4,100.00: December's true-up is +9 points (the -6 refund and the +15 late sale),
    +600.00 GMV; November's stays 0."""
    desk = cycle["desk"]
    assert cycle["close_nov"].startswith("2025-11 closed by carol: 0 points to date")
    assert cycle["close_dec"].startswith(
        "2025-12 closed by carol: 39 points to date, 113 projected for the window, from the "
        "accrual of 2025-12-06 (its latest day on or before 2025-12-31)"
    )
    code, out = cycle["close_dec_again"]
    assert code == 2 and "2025-12 was closed by carol at " in out and "(39 points to date)" in out
    for month, says in (
        ("2025-10", "2025-10 ends before the window starts (2025-11-22)"),
        ("2099-01", "2099-01 has not ended yet"),
        ("2025-13", "the month to close must be YYYY-MM"),
    ):
        code, out = desk.run("close", month, "--by", "carol")
        assert code == 2 and says in out and len(out.strip().splitlines()) == 1, out
    rows = query(
        desk.ledger,
        "select month, accrual_date::varchar, points_to_date, projected_points, "
        "window_gmv_to_date::varchar, accounts_earning, closed_by from ledger.month_closes "
        "order by close_id",
    )
    assert rows == [
        ("2025-11", "2025-11-30", 0, 0, "0.00", 0, "carol"),
        ("2025-12", "2025-12-06", 39, 113, "3500.00", 2, "carol"),
    ]
    with open_serving_copy(desk.serving, desk.ledger) as con:  # day 2 is served by now
        read_ledger(con)
        closes = {c["month"]: c for c in month_closes(con)}
    december = closes["2025-12"]
    assert (december["booked_points"], december["today_points"], december["true_up_points"]) == (
        39,
        48,
        9,
    )
    assert december["true_up_window_gmv"] == Decimal("600.00")
    assert str(december["today_accrual_date"]) == "2025-12-20"
    assert closes["2025-11"]["true_up_points"] == 0
    assert "2025-12 closed by carol at " in cycle["ledger"]
    assert (
        ": 39 points to date booked (the accrual of 2025-12-06); today 48 (the accrual of "
        "2025-12-20): true-up +9"
    ) in cycle["ledger"]
    # the workbook's accrual sheet and the statements index show both closes with their true-up
    desk.ok("export", "--out", str(tmp_path / "book.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx")["accrual"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    at = next(i for i, row in enumerate(rows) if row[0] and str(row[0]).startswith("month-end"))
    header = rows[at + 1]
    booked = {row[0]: dict(zip(header, row, strict=False)) for row in rows[at + 2 :]}
    dec = booked["2025-12"]
    assert (dec["booked_points"], dec["today_points"], dec["true_up_points"]) == (39, 48, 9)
    assert dec["true_up_window_gmv"] == 600 and dec["closed_by"] == "carol"
    assert dec["booked_accrual_date"].date().isoformat() == "2025-12-06"
    cell = sheet.cell(row=at + 4, column=header.index("true_up_points") + 1)
    assert cell.number_format == "#,##0"
    desk.ok("statements", "--out", str(tmp_path / "statements"))
    index = Page((tmp_path / "statements" / "index.html").read_text(encoding="utf-8")).words
    assert (
        "2025-12 39 积分 points （2025-12-06） 48 积分 points （2025-12-20） +9 +600.00" in index
    ), index
