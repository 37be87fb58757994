"""End to end through the real Dagster UI in a real browser (Debian's Chromium, Playwright).

`dagster dev` serves the code location on loopback over a small generated landing folder; the
browser opens the global asset lineage, clicks "Materialize all", waits on the runs list until
the run succeeded, and the warehouse then holds `marts.account_rewards`. The asset graph is
photographed after the run (every asset materialized); with REWARDS_UPDATE_SCREENSHOT=1 the
picture also replaces docs/images/asset-graph.png.

Needs /usr/bin/chromium (`apt-get install chromium`; Playwright's own browser downloads are not
used). Without it the test is skipped, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import shutil
import time

import duckdb
import pytest
from dagster_ui import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    DagsterDev,
    dismiss_dialogs_automatically,
    log_tail,
    materialize_all,
    show_whole_graph,
    wait_for_run,
)

from orchestration.generate import generate_landing

STARTUP_TIMEOUT = 180  # the code location loads dbt's manifest and every check
RUN_TIMEOUT = 600
SCREENSHOT = REPO_ROOT / "docs" / "images" / "asset-graph.png"

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


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


def test_materialize_all_from_the_ui(tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    landing = tmp_path / "landing"
    generate_landing(landing, n_orders=2000, seed=7, dirty=False)
    warehouse = tmp_path / "warehouse.duckdb"
    log = tmp_path / "dagster-dev.log"
    started = time.monotonic()

    try:
        with DagsterDev(landing, warehouse, tmp_path / "dagster_home", log,
                        startup_timeout=STARTUP_TIMEOUT) as dev, sync_playwright() as p:
            print(f"dagster dev answered on {dev.url} after {time.monotonic() - started:.0f} s")
            browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            dismiss_dialogs_automatically(page)
            try:
                drive(page, dev.url, warehouse, tmp_path, started)
            except BaseException:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                print(f"page at failure: {page.url} ({tmp_path / 'failure.png'})")
                raise
            finally:
                browser.close()
    except BaseException:
        print(f"--- dagster dev log ({log}) ---\n{log_tail(log)}")
        raise
    print(f"test done after {time.monotonic() - started:.0f} s")


def drive(page, url, warehouse, tmp_path, started) -> None:
    page.goto(f"{url}/asset-groups")
    run_id = materialize_all(page)
    print(f"launched run {run_id}")
    status = wait_for_run(page, url, run_id, timeout=RUN_TIMEOUT)
    assert status == "Success", f"run {run_id} ended {status}"
    print(f"run {run_id} succeeded after {time.monotonic() - started:.0f} s")

    assert account_rewards_rows(warehouse) > 0

    show_whole_graph(page, url)
    shot = tmp_path / "asset-graph.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("REWARDS_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
        print(f"updated {SCREENSHOT}")
