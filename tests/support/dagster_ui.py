"""A real `dg dev` (webserver + daemon) on loopback, for the browser tests.

`DagsterDev` starts it as a user does, with `rewards ui --landing ... --warehouse ...` (which
runs `dg dev` from the repository root, where `[tool.dg.project]` in pyproject.toml names the
code location, on the project's instance beside the warehouse: no DAGSTER_HOME), in its own
process group; waits until the webserver answers, and kills the whole group on exit or restart.
Everything it prints goes to one log file.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .pipeline import REWARDS, user_shell_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> Path:
    """Debian's Chromium, or skip the test (fail in CI, where .ci/run installs it)."""
    import pytest

    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, chars: int = 20_000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return text[-chars:]


STOP_GRACE_SECONDS = 5


class DagsterDev:
    """`dg dev` for one test; use as a context manager."""

    def __init__(
        self, landing: Path, warehouse: Path, log_path: Path, startup_timeout: float = 180.0
    ):
        self.landing = landing
        self.warehouse = warehouse
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log = None

    def _env(self) -> dict[str, str]:
        # Nothing inherited from the caller's REWARDS_* or DAGSTER_* settings: every derived
        # path (DuckDB's temp folder, quality folder, serving copy, ledger, Dagster instance)
        # defaults to beside the warehouse.
        return {**user_shell_env(), "PYTHONUNBUFFERED": "1"}

    def start(self) -> DagsterDev:
        self._log = open(self.log_path, "ab")  # closed in stop(); a restart appends
        self.process = subprocess.Popen(
            [
                REWARDS,
                "ui",
                "--landing",
                str(self.landing),
                "--warehouse",
                str(self.warehouse),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=self.log_path.parent,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_up()
        return self

    def restart(self) -> DagsterDev:
        """Stop `dg dev` and start it again on the same instance and port."""
        self.stop()
        return self.start()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"dg dev exited with {self.process.returncode} before answering; "
                    f"log:\n{log_tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        raise TimeoutError(
            f"dg dev did not answer on {self.url} within "
            f"{self.startup_timeout:.0f} s; log:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Ask `dg dev` to shut down (it stops its webserver, daemon and code servers),
        then SIGKILL whatever is left of its process group. Signalling the whole group at once
        makes dg dev restart the code server it sees exit, leaving orphans behind. Here
        dagster dev 1.13 rarely exits within 40 s of SIGINT or SIGTERM, so it gets a few
        seconds: everything a test checks afterwards (the run history, the schedule's state)
        is in the instance's SQLite files already, committed when it happened."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
            try:  # start_new_session: the group id is the leader's pid
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DagsterDev:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


# ----------------------------------------------------------------------------- the UI, by role

RUN_LINK = re.compile(r"/runs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def dismiss_dialogs_automatically(page) -> None:
    """Dagster asks a fresh instance once to 'Join the Dagster community': skip it whenever it
    shows up in front of what the test clicks."""
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip", exact=True).click(),
    )


def materialize_all(page, timeout: float = 60.0) -> str:
    """Click "Materialize all" on the asset graph page and return the launched run's id, read
    from the "run launched" toast's link. If a launchpad opens instead (config required), launch
    from it."""

    def linked_runs() -> set[str]:
        # by href, not role: a modal (the community prompt) hides the toast from role queries
        links = page.locator("a[href*='/runs/']").all()
        hrefs = (link.get_attribute("href") or "" for link in links)
        return {found.group(1) for found in map(RUN_LINK.search, hrefs) if found}

    button = page.get_by_role("button", name=re.compile(r"\bMaterialize all\b"))
    button.wait_for()
    before = linked_runs()  # e.g. a run a sensor launched: not ours
    button.click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        launched = linked_runs() - before
        if launched:
            return launched.pop()
        dialog = page.get_by_role("dialog")
        if dialog.count():
            launch = dialog.get_by_role("button", name=re.compile(r"^(Materialize|Launch run)"))
            if launch.count() and launch.first.is_enabled():
                launch.first.click()
        page.wait_for_timeout(250)
    raise TimeoutError(f"no run was launched within {timeout:.0f} s of 'Materialize all'")


def runs_list_shows(
    page, base_url: str, run_id: str, statuses: tuple[str, ...], wait: float = 5.0
) -> bool:
    """Whether the runs list filtered to these statuses (as the "Failed" tab filters it:
    `/runs?q[]=status:FAILURE&q[]=status:CANCELED`) lists the run (its short-id link)."""
    query = urllib.parse.urlencode([("q[]", f"status:{status}") for status in statuses])
    page.goto(f"{base_url}/runs?{query}")
    link = page.get_by_role("link", name=run_id[:8])  # the short id (and an icon)
    try:
        link.first.wait_for(timeout=wait * 1000)
    except PlaywrightTimeout:
        return False
    return True


def wait_for_run(page, base_url: str, run_id: str, timeout: float, poll: float = 5.0) -> str:
    """Poll the runs list until the run is listed as succeeded ("Success") or failed or
    canceled ("Failure"); return which."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runs_list_shows(page, base_url, run_id, ("SUCCESS",)):
            return "Success"
        if runs_list_shows(page, base_url, run_id, ("FAILURE", "CANCELED"), wait=2.0):
            return "Failure"
        page.wait_for_timeout(poll * 1000)
    raise TimeoutError(f"run {run_id} not finished after {timeout:.0f} s")


def show_whole_graph(page, base_url: str, max_height: int = 4000) -> None:
    """Open the global asset lineage with every group expanded, top to bottom, navigation and
    asset tree hidden, zoomed to the graph's width; grow the viewport until the graph's height
    fits too."""
    page.goto(f"{base_url}/asset-groups")
    page.get_by_role("button", name=re.compile(r"\bMaterialize all\b")).wait_for()
    hide_nav = page.get_by_role("button", name="Hide navigation")
    if hide_nav.is_visible():
        hide_nav.click()
    hide_tree = page.get_by_role("button", name="panel_show_right", exact=True)
    if hide_tree.is_visible():
        hide_tree.click()
    controls = page.locator("#zoom-slider-container")  # the graph viewport's own toolbar
    settings = controls.get_by_role("button", name="settings", exact=True)
    for item in ("Change graph to vertical orientation", "Expand all groups"):
        for attempt in range(3):  # a busy machine can re-render the menu under the click
            settings.click()
            page.get_by_role("menuitem").first.wait_for()
            entry = page.get_by_role("menuitem", name=item)
            if not entry.count():  # absent when already so (or a single group)
                page.keyboard.press("Escape")
                break
            try:
                entry.click(timeout=15_000)
                break
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
                if attempt == 2:
                    raise
        page.wait_for_timeout(500)
    viewport = controls.locator("..")
    graph = viewport.locator("svg").first
    for _ in range(3):
        viewport.dispatch_event("dblclick")  # the viewport's own handler: zoom to fit the width
        page.wait_for_timeout(1500)
        view, drawn = viewport.bounding_box(), graph.bounding_box()
        overflow = drawn["height"] - view["height"] + 40
        size = page.viewport_size
        if overflow <= 0 or size["height"] >= max_height:
            break
        page.set_viewport_size(
            {"width": size["width"], "height": min(max_height, size["height"] + int(overflow))}
        )
    page.mouse.move(0, 0)  # no hover highlight
    page.wait_for_timeout(1000)
