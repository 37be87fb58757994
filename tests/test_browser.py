"""End to end through the real Dagster UI in a real browser (Debian's Chromium, Playwright).

One story, as a data engineer lives it, on the rulebook landing (tests/support/rulebook_cases.py):
a run from the command line (the session's rulebook run, copied), then `rewards ui` (`dg dev` on
the project's instance beside the warehouse, no DAGSTER_HOME) on the same warehouse.

1. The CLI's run is in the UI: `marts/account_rewards` shows that run's id as its latest
   materialization, and every one of its checks passed.
2. The schedule turned on in the UI is still on after `dg dev` restarts.
3. "Materialize all" in the UI launches a run that succeeds (through the instance's run queue);
   the asset graph is photographed after it (REWARDS_UPDATE_SCREENSHOT=1 also replaces
   docs/images/asset-graph.png).

The tests share one `dg dev` and run in this order. Needs /usr/bin/chromium (`apt-get
install chromium`; Playwright's own browser downloads are not used). Without it the tests are
skipped, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.parse

import duckdb
import pytest
from support.dagster_ui import (
    CHROMIUM_ARGS,
    RUN_LINK,
    DagsterDev,
    dismiss_dialogs_automatically,
    log_tail,
    materialize_all,
    require_chromium,
    show_whole_graph,
    wait_for_run,
)

from orchestration.settings import REPO_ROOT

STARTUP_TIMEOUT = 180  # the code location loads dbt's manifest and every check
RUN_TIMEOUT = 600
SCREENSHOT = REPO_ROOT / "docs" / "images" / "asset-graph.png"
ACCOUNT_REWARDS = "/assets/marts/account_rewards"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cli_run(rulebook_run, tmp_path_factory) -> dict:
    """The session's rulebook run (conftest's `rulebook_run`: `rewards run`'s own runner, its
    run tagged as the command line's), in a copy of its warehouse folder of the module's own --
    the warehouse, its Dagster instance, serving copy and quality folder -- since the UI's run
    writes there. The landing is the rulebook's, read only. `rewards run` itself, as a shell
    runs it, is tests/test_cli.py's; a second one here cost a whole pipeline run."""
    require_chromium()
    built = rulebook_run["warehouse"].parent
    root = tmp_path_factory.mktemp("browser")
    for path in built.iterdir():
        if path.name.startswith("warehouse."):
            copy = shutil.copytree if path.is_dir() else shutil.copy2
            copy(path, root / path.name)
    return {
        "root": root,
        "landing": built / "landing",
        "warehouse": root / "warehouse.duckdb",
        "run_id": rulebook_run["summary"].dagster_run_id,
        "accounts": len(rulebook_run["expected"]),
    }


@pytest.fixture(scope="module")
def ui(cli_run):
    log = cli_run["root"] / "dagster-dev.log"
    started = time.monotonic()
    dev = DagsterDev(cli_run["landing"], cli_run["warehouse"], log, startup_timeout=STARTUP_TIMEOUT)
    try:
        with dev:
            print(f"dg dev answered on {dev.url} after {time.monotonic() - started:.0f} s")
            yield dev
    except BaseException:
        print(f"--- dg dev log ({log}) ---\n{log_tail(log)}")
        raise


@pytest.fixture(scope="module")
def browser(cli_run):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(require_chromium()), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, cli_run, request):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(60_000)
    dismiss_dialogs_automatically(page)
    yield page
    # what the page showed last, for a failure's post-mortem
    page.screenshot(path=str(cli_run["root"] / f"last-{request.node.name}.png"), full_page=True)
    page.close()


def latest_materialization_run(page, url: str) -> str:
    """The run that the asset page's "Latest materialization" links to (the page's only link to
    a run)."""
    page.goto(url)
    page.get_by_text("Latest materialization", exact=True).wait_for()
    page.locator("a[href*='/runs/']").filter(has_text=re.compile(r"ago|now")).first.wait_for()
    hrefs = {a.get_attribute("href") for a in page.locator("a[href*='/runs/']").all()}
    (run_id,) = {found.group(1) for found in map(RUN_LINK.search, hrefs) if found}
    return run_id


def test_the_cli_run_is_the_latest_materialization_with_every_check_passed(ui, page, cli_run):
    run_id = cli_run["run_id"]
    assert latest_materialization_run(page, f"{ui.url}{ACCOUNT_REWARDS}") == run_id

    page.goto(f"{ui.url}{ACCOUNT_REWARDS}?view=checks")
    heading = page.get_by_text(re.compile(r"^Checks \(\d+\)$"))
    heading.wait_for()
    checks = int(re.search(r"\d+", heading.inner_text()).group())
    assert checks >= 10  # the dbt tests and the GX suite on account_rewards
    succeeded = page.get_by_text("Succeeded", exact=True)
    deadline = time.monotonic() + 30
    while succeeded.count() < checks and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    body = page.inner_text("body")
    assert succeeded.count() == checks, body[:3000]
    for state in ("Not evaluated", "Failed", "Execution failed"):
        assert state not in body, f"a check shows {state!r}"

    # the runs list, filtered to the CLI's tag, lists it
    page.goto(f"{ui.url}/runs?" + urllib.parse.urlencode([("q[]", "tag:rewards/trigger=cli")]))
    page.get_by_role("link", name=run_id[:8]).first.wait_for()


def test_a_schedule_turned_on_stays_on_after_a_restart(ui, page):
    schedule_page = f"{ui.url}/locations/short_video_rewards/schedules/rewards_daily"

    def toggle():
        page.goto(schedule_page)
        switch = page.get_by_role("checkbox")  # the "Running" switch, the page's only one
        switch.wait_for(state="attached")
        page.get_by_text("Running", exact=True).wait_for()
        return switch

    switch = toggle()
    assert not switch.is_checked()  # off by default (D21)
    switch.locator("xpath=..").click()  # the switch's label: the input itself is hidden
    deadline = time.monotonic() + 30
    while not switch.is_checked() and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert switch.is_checked()

    ui.restart()
    assert toggle().is_checked(), "the schedule's state did not survive the restart"


def test_materialize_all_from_the_ui(ui, page, cli_run):
    started = time.monotonic()
    page.goto(f"{ui.url}/asset-groups")
    run_id = materialize_all(page)
    print(f"launched run {run_id}")
    status = wait_for_run(page, ui.url, run_id, timeout=RUN_TIMEOUT)
    assert status == "Success", f"run {run_id} ended {status}"
    print(f"run {run_id} succeeded after {time.monotonic() - started:.0f} s")

    assert account_rewards_rows(cli_run["warehouse"]) == cli_run["accounts"]
    assert latest_materialization_run(page, f"{ui.url}{ACCOUNT_REWARDS}") == run_id
    # its Data Docs pages, rendered by the daemon's data_docs_after_run sensor after the run
    index = cli_run["warehouse"].with_suffix(".gx") / "data_docs" / "index.html"
    deadline = time.monotonic() + 90
    while run_id not in (index.read_text() if index.exists() else ""):
        assert time.monotonic() < deadline, f"no Data Docs of run {run_id} in {index}"
        time.sleep(2)

    show_whole_graph(page, ui.url)
    shot = cli_run["root"] / "asset-graph.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("REWARDS_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
        print(f"updated {SCREENSHOT}")


def account_rewards_rows(warehouse, wait: float = 30.0) -> int:
    """Rows of marts.account_rewards, read-only; the run worker may hold the file's lock for a
    moment after the run is marked finished."""
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
            continue
        try:
            return con.execute("select count(*) from marts.account_rewards").fetchone()[0]
        finally:
            con.close()
