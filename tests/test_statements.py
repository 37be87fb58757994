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

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.dagster_ui import CHROMIUM_ARGS, require_chromium
from support.finance_cases import WEIRD_ACCOUNT
from support.pipeline import cli_ok

from orchestration.cli import main
from orchestration.settings import REPO_ROOT

HOSTILE_REASON = 'goodwill <img src=x onerror=alert(1)> & "thanks"'
SCREENSHOTS = {
    "fin_a.html": REPO_ROOT / "docs" / "images" / "statement.png",
    "index.html": REPO_ROOT / "docs" / "images" / "statements-index.png",
}


class Page(HTMLParser):
    """A page's tags, its h2 headings, its links and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._in_h2 = self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_h2 = self._in_h2 or tag == "h2"
        self._in_style = tag == "style"
        self.links += [value for name, value in attrs if tag == "a" and name == "href"]

    def handle_endtag(self, tag):
        self._in_h2 = self._in_h2 and tag != "h2"
        self._in_style = False

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.headings.append(data.strip())
        if not getattr(self, "_in_style", False):
            self.text.append(data)

    @property
    def words(self) -> str:
        """The visible text, one space between words (none before a closing mark)."""
        return re.sub(r" ([),，）:：])", r"\1", " ".join(" ".join(self.text).split()))


@pytest.fixture(scope="module")
def written(finance_runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("statements")
    warehouse = root / "warehouse.duckdb"
    serving = root / "warehouse.serving.duckdb"
    flag = ("--warehouse", str(warehouse))
    shutil.copyfile(finance_runs["day1_serving"], serving)
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
        # the payout history, each line with its run and state
        "首次发放 initial +15 已审批 approved · bob 应得 reward 15",
        "追回 clawback -6 已审批 approved · bob 应得 reward 9",
        f"人工调整 adjustment +5 已审批 approved · bob “{HOSTILE_REASON}” · 工单 ref T-<1> · "
        "申请人 asked by carol · 审批人 approver bob",
        # paid to date: approved runs, rules and adjustments
        "累计已发放 Paid to date 14 / 14 积分 points",
        "规则积分 rule-based 9，人工调整 adjustments +5",
    ]:
        assert expected in words, f"{expected!r} not in:\n{words}"


def test_fin_b_statement_by_hand(written):
    words = _page(written, "fin_b.html").words
    for expected in [
        "带货者 promoter",
        "基准期 baseline 2025-08-01 – 2025-10-31 1 920.00",
        "活动期 window 2025-11-22 – 2025-12-31 2 3,000.00",
        "920.00 × 40 / 92 = 400.00",
        "max(0, 3,000.00 − 400.00) = 2,600.00",
        "floor(2,600.00 × 0.015) = 39",
        "首次发放 initial +24 已审批 approved · bob",
        "补发 increase +15 已审批 approved · bob",
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
