"""The ledger on a bad day (issue 30): a lost, stale, swapped, damaged, locked or read-only
ledger is refused by every finance command in one line naming the file and what to do, and
nothing is written; `publish` never starts a ledger by itself; out-of-range adjustments never
reach it. On the finance landing's served days (tests/support/finance_cases.py: day 1 fin_a 15,
fin_b 24 points; day 2 fin_a 9, fin_b 39).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support.finance_desk import Desk
from support.pipeline import REWARDS, query, user_shell_env

from orchestration.finance.ledger import files
from orchestration.finance.ledger.chain import adjustment_record, record_digest


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def paid_once(finance_runs, tmp_path_factory):
    """A ledger started by alice, day 1 published (run 1) and approved, then day 2 published
    (run 2) and approved; copies of the ledger as it was after run 1 (a backup) and after run 2."""
    desk = Desk(tmp_path_factory.mktemp("safety"), finance_runs)
    desk.serve(1)
    seen = {"desk": desk}
    seen["publish_before_init"] = desk.run("publish", "--by", "alice")
    seen["ledger_after_refusal"] = desk.ledger.exists()
    seen["init"] = desk.ok("ledger", "init", "--by", "alice")
    seen["init_again"] = desk.run("ledger", "init", "--by", "alice")
    desk.ok("publish", "--by", "alice")
    desk.ok("approve", "1", "--by", "bob")
    shutil.copyfile(desk.ledger, desk.root / "backup-after-run-1.duckdb")
    desk.serve(2)
    desk.ok("publish", "--by", "alice")
    desk.ok("approve", "2", "--by", "bob")
    shutil.copyfile(desk.ledger, desk.root / "latest.duckdb")
    return seen


def test_publish_never_starts_a_ledger_and_init_records_who_started_it(paid_once):
    desk = paid_once["desk"]
    code, out = paid_once["publish_before_init"]
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert f"no ledger at {desk.ledger}: start one with `rewards ledger init --by NAME`" in out
    assert paid_once["ledger_after_refusal"] is False  # nothing was created
    assert f"ledger {desk.ledger} started by alice at " in paid_once["init"]
    assert "the first publish will be payout run 1" in paid_once["init"]
    code, out = paid_once["init_again"]
    assert code == 2 and "this warehouse already has a ledger" in out
    ((started_by, previous),) = query(
        desk.ledger, "select started_by, previous_sha256 from ledger.ledger_starts"
    )
    assert (started_by, previous) == ("alice", None)  # the first record of the chain
    # run 1 follows the start record; the anchor has a line per write, the last one the head
    ((first_run_previous,),) = query(
        desk.ledger, "select previous_run_sha256 from ledger.payout_runs where payout_run_id = 1"
    )
    ((start_digest,),) = query(desk.ledger, "select sha256 from ledger.ledger_starts")
    assert first_run_previous == start_digest
    lines = desk.anchor_lines()
    assert [line["action"] for line in lines] == [
        "ledger started by alice",
        "payout run 1 published by alice",
        "payout run 1 approved by bob",
        "payout run 2 published by alice",
        "payout run 2 approved by bob",
    ]
    assert {line["ledger_id"] for line in lines} == {start_digest}
    assert [line["records"] for line in lines] == [1, 3, 4, 6, 7]
    listing = desk.ok("ledger")
    assert "ledger started by alice at " in listing
    assert f"anchor {desk.anchor}: matches (7 records" in listing


def test_a_lost_ledger_is_refused_everywhere_and_never_paid_again(paid_once, tmp_path):
    """The issue's finding: the ledger moved away after approved runs. Every finance command
    refuses in one line naming the head the file must have; `ledger init` refuses to start a
    new one; nothing is written. Put back, everything works again."""
    desk = paid_once["desk"]
    head = desk.anchor_lines()[-1]["head"]
    desk.ledger.rename(tmp_path / "archived.duckdb")
    anchor_before = desk.anchor.read_bytes()
    try:
        for args in (
            ("publish", "--by", "alice"),
            ("approve", "3", "--by", "bob"),
            ("adjust", "fin_a", "--points", "5", "--reason", "x", "--by", "carol"),
            ("ledger",),
            ("explain", "fin_a"),
            ("export", "--out", str(tmp_path / "now.csv")),
            ("statements", "--out", str(tmp_path / "statements")),
        ):
            out = desk.refused(*args)
            assert f"the ledger {desk.ledger} is missing" in out, args
            assert f"the copy whose head digest is {head}" in out, args
        out = desk.refused("ledger", "init", "--by", "mallory")
        assert "this warehouse already has a ledger" in out and "is missing" in out
        assert not desk.ledger.exists() and desk.anchor.read_bytes() == anchor_before
        assert not (tmp_path / "now.csv").exists()
    finally:
        (tmp_path / "archived.duckdb").rename(desk.ledger)
    assert "nothing to publish" in desk.ok("publish", "--by", "alice")


def test_a_stale_backup_or_a_cut_off_tail_is_refused(paid_once):
    """The backup taken after run 1, restored over a ledger that has run 2 too: its chain is
    whole, but it ends at an earlier head of its anchor."""
    desk = paid_once["desk"]
    latest = desk.ledger.read_bytes()
    shutil.copyfile(desk.root / "backup-after-run-1.duckdb", desk.ledger)
    try:
        lines = desk.anchor_lines()
        for args in (("publish", "--by", "alice"), ("ledger",), ("explain", "fin_b")):
            out = desk.refused(*args)
            assert f"the ledger {desk.ledger} is older than its anchor" in out
            assert "it ends at 4 records" in out and "the anchor records 7 records" in out
            assert f"restore the copy whose head digest is {lines[-1]['head']}" in out
        assert desk.anchor_lines() == lines  # nothing appended
    finally:
        desk.ledger.write_bytes(latest)


def test_another_warehouses_ledger_is_refused(paid_once, finance_runs, tmp_path):
    desk = paid_once["desk"]
    other = Desk(tmp_path / "other", finance_runs)
    other.serve(1)
    other.ok("ledger", "init", "--by", "zoe")
    latest = desk.ledger.read_bytes()
    shutil.copyfile(other.ledger, desk.ledger)
    try:
        out = desk.refused("export", "--out", str(tmp_path / "x.csv"))
        assert f"the ledger {desk.ledger} is not this warehouse's ledger" in out
    finally:
        desk.ledger.write_bytes(latest)


def test_an_anchor_behind_its_ledger_catches_up(paid_once):
    """Records written without their anchor line (an earlier version of rewards, or a command
    stopped between its two writes): the chain runs through the anchor's last head, so the next
    command appends a line, and changes nothing else."""
    desk = paid_once["desk"]
    text = desk.anchor.read_text()
    desk.anchor.write_text("".join(text.splitlines(keepends=True)[:-1]))
    ledger_sha = _sha(desk.ledger)
    desk.ok("ledger")
    assert desk.anchor_lines()[-1]["action"].startswith("caught up")
    assert desk.anchor_lines()[-1]["records"] == 7
    assert _sha(desk.ledger) == ledger_sha


@pytest.mark.parametrize("damage", ["zero bytes", "cut short", "overwritten blocks"])
def test_a_damaged_ledger_is_refused_naming_the_file(paid_once, tmp_path, damage):
    desk = paid_once["desk"]
    latest = desk.ledger.read_bytes()
    if damage == "zero bytes":
        desk.ledger.write_bytes(b"")
    elif damage == "cut short":
        desk.ledger.write_bytes(latest[: len(latest) // 2])
    else:  # every block after the file's headers, overwritten
        desk.ledger.write_bytes(latest[:12288] + b"\x5a" * (len(latest) - 12288))
    damaged = desk.ledger.read_bytes()
    try:
        for args in (("publish", "--by", "alice"), ("ledger",), ("explain", "fin_a")):
            out = desk.refused(*args)
            assert (
                f"the ledger {desk.ledger} is " in out and "restore the file from a backup" in out
            )
            if damage == "zero bytes":
                assert "is empty (0 bytes)" in out
            assert "locked" not in out and "in use" not in out
        assert desk.ledger.read_bytes() == damaged  # nothing written
    finally:
        desk.ledger.write_bytes(latest)


def test_a_locked_ledger_says_who_holds_it(paid_once, monkeypatch):
    desk = paid_once["desk"]
    monkeypatch.setattr(files, "LOCK_WAIT_SECONDS", 0.5)  # our own module's wait, not a library's
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(desk.ledger)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        out = desk.refused("approve", "9", "--by", "bob")
        assert f"the ledger {desk.ledger} is in use by another process (pid {holder.pid})" in out
    finally:
        holder.kill()
        holder.wait()


def _read_only_mount(source: Path, target: Path, command: list[str]) -> subprocess.CompletedProcess:
    """`command` with `target` a read-only bind mount of `source`, in a user and mount namespace
    of its own (no privileges needed, nothing left mounted)."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to mount a folder read-only")
    target.mkdir()
    script = (
        f'mount --bind "{source}" "{target}" && mount -o remount,ro,bind "{target}" && '
        + " ".join(f"'{part}'" for part in command)
    )
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True, text=True, timeout=300, env=user_shell_env(),
    )  # fmt: skip


def test_on_a_read_only_share_writers_say_so_and_readers_work(paid_once, tmp_path):
    desk = paid_once["desk"]
    share = tmp_path / "share"
    warehouse = share / desk.warehouse.name
    for args, says in (
        (["publish", "--by", "alice"], "is on a read-only file system: publish, approve"),
        (["adjust", "fin_a", "--points", "1", "--reason", "x", "--by", "carol"], "read-only"),
        (["ledger"], "digest chain verified"),
    ):
        if share.exists():
            share.rmdir()
        done = _read_only_mount(desk.root, share, [REWARDS, *args, "--warehouse", str(warehouse)])
        output = done.stdout + done.stderr
        assert says in output, output
        if args[0] != "ledger":
            assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, output
            assert "locked" not in output and "in use" not in output


def test_adjustments_out_of_range_are_refused_and_an_old_one_never_blocks_a_publish(
    paid_once, tmp_path
):
    desk = paid_once["desk"]
    for points in ("9223372036854775807", "150001", "-150001"):
        out = desk.refused("adjust", "fin_a", "--points", points, "--reason", "x", "--by", "carol")
        assert "is out of range: an adjustment is at most" in out
    out = desk.refused("adjust", "fin_a", "--points", "10" * 8, "--reason", "x", "--by", "carol")
    assert "1,000,000,000,000 points either way" in out
    # An earlier version recorded 9,223,372,036,854,775,807 points, chained as it chained them:
    # it is void, never carried, and the next publish goes through.
    latest = desk.ledger.read_bytes()
    anchor = desk.anchor.read_bytes()
    try:
        with duckdb.connect(str(desk.ledger)) as con:
            ((head,),) = con.execute(
                "select sha256 from ledger.run_events order by event_id desc limit 1"
            ).fetchall()
            record = {
                "adjustment_id": 1, "account_id": "fin_a", "points": 2**63 - 1,
                "reason": "typo", "reference": None, "requested_by": "carol",
                "os_user": "carol", "host": "old", "requested_at": "2026-01-05T10:00:00+08:00",
            }  # fmt: skip
            digest = record_digest(head, adjustment_record(record))
            con.execute(
                "insert into ledger.adjustments values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*record.values(), head, digest],
            )
        desk.ok("adjust", "fin_b", "--points", "7", "--reason", "goodwill", "--by", "carol")
        out = desk.ok("publish", "--by", "alice")
        assert "payout run 3 published by alice, pending approval: 0 accounts, +7 points" in out
        assert query(desk.ledger, "select adjustment_id from ledger.adjustment_entries") == [(2,)]
        explained = desk.ok("explain", "fin_a")
        assert "adjustment 1 +9,223,372,036,854,775,807 is void" in explained
    finally:
        desk.ledger.write_bytes(latest)
        desk.anchor.write_bytes(anchor)


def test_an_unanchored_ledger_gets_its_anchor_with_nothing_else_changed(paid_once, tmp_path):
    """A ledger from before anchors (here: this one, its anchor removed) gets an anchor at its
    head on the first command after the upgrade; the ledger's bytes are unchanged."""
    desk = paid_once["desk"]
    anchor = desk.anchor.read_bytes()
    desk.anchor.unlink()
    before = _sha(desk.ledger)
    try:
        time.sleep(0)  # nothing waits: the first reader writes the anchor
        desk.ok("explain", "fin_b")
        (line,) = desk.anchor_lines()
        assert line["action"] == "anchor started at the ledger's head"
        assert line["records"] == 7 and _sha(desk.ledger) == before
    finally:
        desk.anchor.write_bytes(anchor)


def test_an_older_ledgers_narrow_amounts_refuse_a_sum_they_cannot_keep(finance_runs, tmp_path):
    """A ledger started by the payout cycle's version keeps run_rewards' amounts in
    DECIMAL(18,2) (below 10^16 CNY); since sums were widened, an account's window GMV can be
    12,000,000,000,010,000.00 (two orders of 6e15 and one of 10,000.00). Publishing it there is
    refused in one line, and nothing is written."""
    desk = Desk(tmp_path, finance_runs)
    desk.serve(1)
    with duckdb.connect(str(desk.serving)) as con:
        con.execute("alter table marts.account_rewards alter window_gmv type decimal(38, 2)")
        con.execute(
            "update marts.account_rewards set window_gmv = 12000000000010000.00 "
            "where account_id = 'fin_b'"
        )
    with duckdb.connect(str(desk.ledger)) as con:  # the cycle version's run_rewards, as it was
        con.execute("create schema ledger")
        con.execute(
            "create table ledger.run_rewards (payout_run_id integer not null, account_id "
            "varchar not null, account_type varchar, enrolled_at timestamp with time zone, "
            "is_eligible boolean not null, ineligible_reason varchar, is_new_entrant boolean "
            "not null, baseline_period_gmv decimal(18, 2) not null, baseline_gmv decimal(18, 2) "
            "not null, window_gmv decimal(18, 2) not null, over_quota_gmv decimal(18, 2) not "
            "null, reward_base decimal(18, 2) not null, reward_points_uncapped bigint not null, "
            "reward_points bigint not null, is_capped boolean not null, "
            "primary key (payout_run_id, account_id))"
        )
    desk.ok("ledger", "init", "--by", "alice")
    before = _sha(desk.ledger)
    out = desk.refused("publish", "--by", "alice")
    assert (
        "fin_b's amounts (window GMV 12,000,000,000,010,000.00 CNY) do not fit this ledger" in out
    )
    assert _sha(desk.ledger) == before


def test_an_edited_order_line_is_found_where_it_is_read(paid_once, tmp_path):
    """D48: the order lines behind a run are on the chain in two levels. A changed line is
    refused by explain for its account and by `rewards ledger` (which checks them all); a
    deleted account digest breaks the run's publish record, which every command checks."""
    desk = paid_once["desk"]
    latest = desk.ledger.read_bytes()
    try:
        with duckdb.connect(str(desk.ledger)) as con:
            con.execute(
                "update ledger.run_order_lines set counted_gmv = 1.00 "
                "where payout_run_id = 2 and account_id = 'fin_b' and order_id = 'fin_b-late'"
            )
        says = "the order lines payout run 2 kept for fin_b no longer match their digest"
        assert says in desk.refused("explain", "fin_b")
        assert says in desk.refused("ledger")
        desk.ok("explain", "fin_c")  # another account's lines are not read, nor refused
        desk.ledger.write_bytes(latest)
        with duckdb.connect(str(desk.ledger)) as con:
            con.execute("delete from ledger.run_order_digests where account_id = 'fin_a'")
        assert "the publish record of payout run 1 no longer matches" in desk.refused(
            "explain", "fin_c"
        )
    finally:
        desk.ledger.write_bytes(latest)
