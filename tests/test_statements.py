"""Per-account statements (`rewards statements`), on the finance landing's two real pipeline runs
(tests/support/finance_cases.py, hand computation there) after two approved payout runs with
adjustments: the content of two accounts' statements, in order, with Chinese labels; a hostile
account id and adjustment reason rendered as harmless text under a safe file name; the index;
one account alone; and, in Chromium with no network, a statement and the index as a payee sees
them (REWARDS_UPDATE_SCREENSHOT=1 saves them to docs/images/).

The ledger, by hand: run 1 (day 1, approved): fin_a initial +15, fin_b initial +24. Then carol
records fin_a +5 (reason with markup, ref T-<1>) and the odd id +3. Run 2 (day 2, approved):
fin_a clawback -6, fin_b increase +15, the two adjustments. Paid: fin_a 15 - 6 + 5 = 14 (reward
9 + 5), fin_b 39, the odd id 3, in all 56.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.dagster_ui import CHROMIUM_ARGS, require_chromium
from support.finance_cases import WEIRD_ACCOUNT
from support.html_page import Page
from support.pipeline import cli_ok, user_shell_env

from orchestration.cli import main
from orchestration.settings import REPO_ROOT

HOSTILE_REASON = 'goodwill <img src=x onerror=alert(1)> & "thanks"'
SCREENSHOTS = {
    "fin_a.html": REPO_ROOT / "docs" / "images" / "statement.png",
    "index.html": REPO_ROOT / "docs" / "images" / "statements-index.png",
}


@pytest.fixture(scope="module")
def written(finance_runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("statements")
    warehouse = root / "warehouse.duckdb"
    serving = root / "warehouse.serving.duckdb"
    flag = ("--warehouse", str(warehouse))
    shutil.copyfile(finance_runs["day1_serving"], serving)
    cli_ok("ledger", "init", "--by", "alice", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "1", "--by", "bob", *flag)
    shutil.copyfile(finance_runs["day2_serving"], serving)
    cli_ok("adjust", "fin_a", "--points", "5", "--reason", HOSTILE_REASON, "--ref", "T-<1>",
        "--by", "carol", *flag)  # fmt: skip
    cli_ok("adjust", WEIRD_ACCOUNT, "--points", "3", "--reason", "welcome", "--by", "carol", *flag)
    cli_ok("publish", "--by", "alice", *flag)
    cli_ok("approve", "2", "--by", "bob", *flag)
    out = root / "statements"
    result = CliRunner().invoke(main, ["statements", "--out", str(out), *flag])
    assert result.exit_code == 0, result.output
    one = CliRunner().invoke(
        main, ["statements", "--out", str(root / "one"), "--account", "fin_b", *flag]
    )
    nobody = CliRunner().invoke(
        main, ["statements", "--out", str(root / "none"), "--account", "nobody", *flag]
    )
    return {"root": root, "out": out, "output": result.output, "one": one, "nobody": nobody}


def _page(written, name: str) -> Page:
    return Page((written["out"] / name).read_text(encoding="utf-8"))


def test_one_statement_per_enrolled_account_plus_the_index(written):
    files = sorted(p.name for p in written["out"].iterdir())
    assert "wrote 4 statements" in written["output"]
    assert files[:3] == ["fin_a.html", "fin_b.html", "fin_c.html"]
    assert files[-1] == "index.html" and len(files) == 5
    assert "statements" in written["output"]  # click's progress bar: its label, off a terminal


def test_a_statement_shows_each_section_in_order(written):
    page = _page(written, "fin_a.html")
    assert page.headings == [
        "计划条款",
        "Programme terms",
        "资格",
        "Eligibility",
        "(R10)",
        "基准期与活动期 GMV",
        "Baseline and window GMV",
        "(R2–R5, R7, R9)",
        "排除的订单",
        "Orders excluded",
        "(R3–R6)",
        "超出发布配额的日期",
        "Days over the posting quota",
        "(R6)",
        "计算公式",
        "Formula",
        "(R7, R8, R11)",
        "发放记录",
        "Payout history",
        "累计已发放",
        "Paid to date",
    ]


def test_fin_a_statement_by_hand(written):
    words = _page(written, "fin_a.html").words
    for expected in [
        # terms, from the run's rule vars
        "2025-11-22 – 2025-12-31 (40 天 days)",
        "2025-08-01 – 2025-10-31 (92 天 days)",
        "0.015 积分/元",
        "150,000 积分 points",
        "0 – 999 1 1,000 – 9,999 2 10,000 – 99,999 5 ≥ 100,000 10",
        # eligibility and the snapshot it was judged on
        "Judged on the snapshot of 2025-07-01: 商家 merchant, 5,000 粉丝 followers",
        "粉丝数达到门槛，或为自营店 at least 1,000 followers, or a self-operated shop 通过 pass",
        "符合资格 eligible",
        # baseline and window GMV with order counts
        "基准期 baseline 2025-08-01 – 2025-10-31 0 0.00",
        "活动期 window 2025-11-22 – 2025-12-31 1 600.00",
        # the orders excluded, with their reasons, down to the order
        "超出当日发布配额 over_quota R6 1 300.00",
        "视频不存在 video_not_found R4 1 50.00",
        "o-fin_a-2 fa-3 活动期 window 2025-12-02 settled 2025-12-05 300.00 300.00",
        "o-fin_a-3 v-nope 活动期 window 2025-12-03 settled 2025-12-06 50.00 50.00",
        # the over-quota day and the GMV it cost
        "2025-12-01 5,000 2 3 1 1 300.00",
        # the formula with its numbers, and the cap
        "max(0, 600.00 − 0.00) = 600.00",
        "floor(600.00 × 0.015) = 9",
        "未达封顶 not reached",
        # the payout history, each line with its run and state: paid, no staff names (D66)
        "首次发放 initial +15 已发放 paid 应得 reward 15",
        "追回 clawback -6 已发放 paid 应得 reward 9",
        f"人工调整 adjustment +5 已发放 paid “{HOSTILE_REASON}” · 工单 ref T-<1>",
        # paid to date: approved runs, rules and adjustments
        "累计已发放 Paid to date 14 / 14 积分 points",
        "规则积分 rule-based 9，人工调整 adjustments +5",
    ]:
        assert expected in words, f"{expected!r} not in:\n{words}"
    for staff in ("alice", "bob", "carol"):  # who published, approved, asked: the ledger's
        assert staff not in words
    # what changed behind run 2's clawback is shown under it, not again under the adjustment
    # that run 2 also carries (an adjustment is not the rules' line)
    assert words.count("since payout run 1") == 1, words


def test_fin_b_statement_by_hand(written):
    words = _page(written, "fin_b.html").words
    for expected in [
        "带货者 promoter",
        "基准期 baseline 2025-08-01 – 2025-10-31 1 920.00",
        "活动期 window 2025-11-22 – 2025-12-31 2 3,000.00",
        "920.00 × 40 / 92 = 400.00",
        "max(0, 3,000.00 − 400.00) = 2,600.00",
        "floor(2,600.00 × 0.015) = 39",
        "首次发放 initial +24 已发放 paid",
        "补发 increase +15 已发放 paid",
        "累计已发放 Paid to date 39 / 39 积分 points",
    ]:
        assert expected in words, f"{expected!r} not in:\n{words}"
    assert "人工调整 adjustment" not in words


def test_a_hostile_id_and_reason_are_text_under_a_safe_file_name(written):
    (odd,) = [p for p in written["out"].iterdir() if p.name.startswith("fin_d")]
    assert re.fullmatch(r"fin_d_script_alert_x_s_script-[0-9a-f]{12}\.html", odd.name)
    assert odd.parent == written["out"]
    html = odd.read_text(encoding="utf-8")
    page = Page(html)
    assert "script" not in page.tags and "img" not in page.tags
    assert WEIRD_ACCOUNT in page.words  # shown as the text it is
    assert "&lt;script&gt;alert(&#34;x&#39;s&#34;)&lt;/script&gt;" in html
    assert "未开通短视频带货 commerce_not_enabled" in page.words
    fin_a = (written["out"] / "fin_a.html").read_text(encoding="utf-8")
    assert (
        "<img" not in fin_a and "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;thanks&#34;" in fin_a
    )


def test_an_enrolled_account_with_no_video_and_no_order_gets_its_statement(written):
    """The odd id enrolled and never posted (tests/support/finance_cases.py): its statement
    says so in zeros, and the set around it is whole."""
    (odd,) = [p for p in written["out"].iterdir() if p.name.startswith("fin_d")]
    words = Page(odd.read_text(encoding="utf-8")).words
    for expected in [
        "基准期 baseline 2025-08-01 – 2025-10-31 0 0.00",
        "活动期 window 2025-11-22 – 2025-12-31 0 0.00",
        "排除的订单 Orders excluded (R3–R6) 无 none",
        "0 个发布日共 0 条带货视频，其中 0 天超出配额 0 commerce videos on 0 days; 0 days "
        "over quota",
        "max(0, 0.00 − 0.00) = 0.00",
        # its adjustment, paid by run 2
        "人工调整 adjustment +3 已发放 paid “welcome”",
        "累计已发放 Paid to date 3 / 3 积分 points",
    ]:
        assert expected in words, f"{expected!r} not in:\n{words}"


def test_the_index_links_every_statement_and_shows_the_programme(written):
    page = _page(written, "index.html")
    statements = sorted(p.name for p in written["out"].iterdir() if p.name != "index.html")
    assert sorted(page.links) == statements
    words = page.words
    assert "累计已发放 Paid (approved payout runs) 56 积分 points" in words
    # program_summary's figures, each named with its population (D61)
    assert "奖励积分（符合资格的账号） reward points (eligible accounts) 48 points" in words
    assert "奖励基数（符合资格的账号） reward base (eligible accounts) 3,200.00 CNY" in words
    assert "活动期 GMV（符合资格的账号） window GMV (eligible accounts) 3,600.00 CNY" in words
    # fin_c's 500.00 (ineligible) is in the window GMV of all enrolled accounts only: the
    # accrual's, which says so, and closes on the programme's
    assert "活动期 GMV（全部报名账号） window GMV (all enrolled accounts) 4,100.00 CNY" in words
    assert "window GMV to date (all enrolled accounts) 4,100.00 CNY" in words
    # the accrual: the latest day's figures, and the chart's two lines over its 29 days
    assert "As of 2025-12-20" in words and "points to date 48" in words
    assert "projected for the window 68" in words
    html = (written["out"] / "index.html").read_text(encoding="utf-8")
    lines = re.findall(r'<polyline points="([^"]+)"', html)
    assert [len(points.split()) for points in lines] == [29, 29]
    assert "fin_a 商家 merchant 符合 eligible 9 14" in words


def test_one_account_alone_and_an_unknown_one(written):
    assert written["one"].exit_code == 0
    assert sorted(p.name for p in (written["root"] / "one").iterdir()) == [
        "fin_b.html",
        "index.html",
    ]
    assert written["nobody"].exit_code == 2
    assert "nobody is not an enrolled account" in written["nobody"].output
    assert not (written["root"] / "none").exists()  # a failed run leaves no folder (D63)


def _statements(out: Path, written, *more: str):
    flag = ("--warehouse", str(written["root"] / "warehouse.duckdb"))
    return CliRunner().invoke(main, ["statements", "--out", str(out), *more, *flag])


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_new_set_replaces_the_old_whole_and_never_someone_elses_folder(written, tmp_path):
    """D63: a statements folder is replaced as a whole by the next set, with nothing left
    beside it; a folder holding anything else, or a whole set that one account's statement
    would replace, is refused in one line and left as it was."""
    old = tmp_path / "statements"
    shutil.copytree(written["out"], old)
    (old / "fin_a.html").write_text("an old statement")
    (old / "gone.html").write_text("an account no longer enrolled")
    assert _statements(old, written).exit_code == 0
    assert list(_contents(old)) == list(_contents(written["out"]))  # gone.html is gone
    assert "an old statement" not in (old / "fin_a.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["statements"]  # no temporary beside

    before = _contents(old)
    one = _statements(old, written, "--account", "fin_b")
    assert one.exit_code == 2 and one.output.strip().splitlines() == [
        f"Error: cannot write {old}: it holds the statements of 3 other account(s), which one "
        "account's statement would replace; choose another --out"
    ]
    someones = tmp_path / "someones"
    someones.mkdir()
    (someones / "notes.txt").write_text("mine")
    refused = _statements(someones, written)
    assert refused.exit_code == 2 and refused.output.strip().splitlines() == [
        f"Error: cannot write {someones}: it holds notes.txt, not statements, and a new set of "
        "statements replaces the whole folder; choose another --out"
    ]
    assert _contents(old) == before and _contents(someones) == {"notes.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someones", "statements"]


def test_an_out_path_under_a_file_is_one_line_naming_it(written, tmp_path):
    """D64: every finance writer says `cannot write PATH: why` in one line, exit 2; simulate
    before it builds anything (its warehouse here does not even exist)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    flag = ("--warehouse", str(written["root"] / "warehouse.duckdb"))
    for args in (
        ["statements", "--out", str(a_file / "statements")],
        ["export", "--out", str(a_file / "rewards.csv")],
        ["export", "--payout-run", "1", "--out", str(a_file / "deeper" / "run1.csv")],
        ["simulate", "--var", "reward_rate=0.02", "--out", str(a_file / "changes.csv")],
    ):
        done = CliRunner().invoke(main, [*args, *flag])
        assert done.exit_code == 2, done.output
        assert done.output.strip().splitlines() == [
            f"Error: cannot write {args[-1]}: {a_file} is a file, not a folder; "
            "choose another --out"
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def _namespaces_work() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# Run by the tests' Python in a user and mount namespace of its own (unshare), where an
# unprivileged user may mount: RO, a read-only bind mount of a folder holding a set of
# statements, and FULL, a 1 MB tmpfs holding the same set with room for about half of another.
# It prints, as JSON, each command's exit code and output, and what FULL held (gone once the
# namespace ends).
READ_ONLY_AND_FULL = r"""
import hashlib, json, os, shutil, subprocess, sys
from pathlib import Path
from click.testing import CliRunner
from orchestration.cli import main

warehouse, ro, full, old_set = map(Path, sys.argv[1:5])
subprocess.run(["mount", "--bind", ro, ro], check=True)
subprocess.run(["mount", "-o", "remount,bind,ro", ro], check=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full], check=True)
seen = {}

def run(name, *args):
    done = CliRunner().invoke(main, [*args, "--warehouse", str(warehouse)])
    seen[name] = [done.exit_code, done.output.strip().splitlines()]

def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

run("ro-export", "export", "--out", str(ro / "rewards.csv"))
run("ro-statements", "statements", "--out", str(ro / "statements"))
shutil.copytree(old_set, full / "statements")
seen["before"] = digests(full / "statements")
set_bytes = sum(p.stat().st_size for p in (full / "statements").iterdir())
room = os.statvfs(full).f_bavail * os.statvfs(full).f_frsize
(full / "filler").write_bytes(bytes(room - set_bytes // 2))
run("full-statements", "statements", "--out", str(full / "statements"))
run("full-new", "statements", "--out", str(full / "new"))
seen["after"] = digests(full / "statements")
try:
    with open(full / "filler-rest", "wb") as rest:
        while True:
            rest.write(bytes(65536))
except OSError:
    pass
run("full-export", "export", "--out", str(full / "rewards.csv"))
seen["full"] = sorted(os.listdir(full))
print(json.dumps(seen))
"""


def test_a_read_only_or_full_file_system_is_one_line_and_leaves_the_old_set(written, tmp_path):
    """D63, D64, on real file systems: a read-only one (EROFS: chmod stops no one when the
    tests run as root) and a full one, where a statements run fails half-way through its set.
    Each failure is one line naming the path the user gave; the old set stays whole and
    nothing is left beside it, and a first run into a new folder leaves no folder at all."""
    if not _namespaces_work():
        pytest.skip("needs user and mount namespaces (`unshare --user --map-root-user --mount`)")
    ro, full = tmp_path / "ro", tmp_path / "full"
    full.mkdir()
    shutil.copytree(written["out"], ro / "statements")
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, "-c",
         READ_ONLY_AND_FULL, str(written["root"] / "warehouse.duckdb"), str(ro), str(full),
         str(written["out"])],
        capture_output=True, text=True, timeout=300, env=user_shell_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    read_only = "the file system is read-only; choose another --out"
    assert seen["ro-export"] == [2, [f"Error: cannot write {ro}/rewards.csv: {read_only}"]]
    assert seen["ro-statements"] == [2, [f"Error: cannot write {ro}/statements: {read_only}"]]
    assert _contents(ro / "statements") == _contents(written["out"])
    assert sorted(p.name for p in ro.iterdir()) == ["statements"]

    no_space = "no space left on the device; free some space, then run it again"
    # the progress bar's label (the output is not a terminal), then the one line of the failure
    for name in ("statements", "new"):
        assert seen[f"full-{name}"] == [
            1,
            ["statements", f"Error: cannot write {full}/{name}: {no_space}"],
        ]
    assert seen["full-export"] == [1, [f"Error: cannot write {full}/rewards.csv: {no_space}"]]
    assert len(seen["before"]) == 5 and seen["after"] == seen["before"]
    assert seen["full"] == ["filler", "filler-rest", "statements"]


@pytest.mark.browser
def test_a_statement_and_the_index_in_chromium_with_no_network(written):
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    shots = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
        requested: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        try:
            page = context.new_page()
            page.goto((written["out"] / "index.html").as_uri())
            assert page.locator("svg.accrual-chart polyline").count() == 2
            shots["index.html"] = written["root"] / "index.png"
            page.screenshot(path=str(shots["index.html"]), full_page=True)
            page.get_by_role("link", name=WEIRD_ACCOUNT).click()  # the odd id, as a payee would
            page.wait_for_load_state()
            assert page.locator("strong.account-id").inner_text() == WEIRD_ACCOUNT
            assert page.evaluate("() => document.scripts.length") == 0
            page.goto((written["out"] / "fin_a.html").as_uri())
            assert page.locator(".paid-to-date").inner_text().startswith("14 / 14")
            shots["fin_a.html"] = written["root"] / "statement.png"
            page.screenshot(path=str(shots["fin_a.html"]), full_page=True)
        finally:
            browser.close()
    assert requested and all(url.startswith("file://") for url in requested), requested
    if os.environ.get("REWARDS_UPDATE_SCREENSHOT") == "1":
        for name, shot in shots.items():
            SCREENSHOTS[name].parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOTS[name])
            print(f"updated {SCREENSHOTS[name]}")


def test_statements_name_their_files_inside_the_folder_for_any_id():
    from orchestration.finance.statements.render import statement_file_name

    for account_id in ["../../etc/passwd", "a/b", "a\\b", ".hidden", "index", "CON", "Ab", "a b"]:
        name = statement_file_name(account_id)
        assert Path(name).name == name and not name.startswith(".") and "/" not in name
        assert name != "index.html" and name.endswith(".html")
    assert statement_file_name("acct-000047") == "acct-000047.html"
    # ids differing only in case or in their unsafe characters never share a file
    names = {statement_file_name(a) for a in ["ab", "Ab", "AB", "a/b", "a_b", "a\\b"]}
    assert len(names) == 6
    assert Path(statement_file_name("a/b")).parts == (statement_file_name("a/b"),)


def test_a_serving_copy_from_before_the_accrual_is_refused_in_one_line(finance_runs, tmp_path):
    """A serving copy written before marts.reward_accrual existed (an upgrade, before the next
    run): the statements say to run again, in one line."""
    import duckdb

    shutil.copyfile(finance_runs["day2_serving"], tmp_path / "warehouse.serving.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.serving.duckdb")) as con:
        con.execute("drop table marts.reward_accrual")
    flag = ("--warehouse", str(tmp_path / "warehouse.duckdb"))
    result = CliRunner().invoke(main, ["statements", "--out", str(tmp_path / "s"), *flag])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "built before marts.reward_accrual existed: run `rewards run`" in result.output
    assert "wrote 4 accounts" in cli_ok("export", "--out", str(tmp_path / "r.csv"), *flag)
