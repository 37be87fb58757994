"""A real `dg dev` (webserver + daemon) on loopback, for the browser tests.

`DagsterDev` starts it as a service is started, with `rewards ui --landing ... --warehouse ...`
(which runs `dg dev` from the repository root, where `[tool.dg.project]` in pyproject.toml names
the code location, on the project's instance beside the warehouse: no DAGSTER_HOME) in the
background of a shell (SIGINT ignored) and in its own process group; waits until the webserver
answers. Stopping it signals that group, as Ctrl-C or a service manager does, and requires
`rewards ui` and every process it started to be gone within 10 s (D58). Everything it prints
goes to one log file.
"""

from __future__ import annotations

import contextlib
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

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from orchestration.ui_process import STOP_SECONDS

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
                # as `rewards ui &` from a script starts it: SIGINT ignored, which dg dev's
                # processes used to pass on to SIGTERM too (D58)
                "sh",
                "-c",
                'trap "" INT; exec "$0" "$@"',
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
        """Stop `dg dev` with Ctrl-C (SIGINT to its process group, as a terminal sends it) and
        start it again on the same instance and port."""
        self.stop(signal.SIGINT)
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

    def stop(self, signum: int = signal.SIGTERM, check: bool = True) -> None:
        """Send `signum` to `rewards ui`'s process group (SIGTERM: as a service manager stops
        it) and wait: `rewards ui`, `dg dev` and every process they started must be gone within
        STOP_SECONDS (with `check`, an AssertionError otherwise, once whatever is left has been
        killed)."""
        left: list[str] = []
        if self.process is not None:
            if self.process.poll() is None:
                tree = _process_tree(self.process.pid)
                started = time.monotonic()
                os.killpg(self.process.pid, signum)  # start_new_session: the group is the pid's
                try:
                    self.process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
                remaining = max(0.0, started + STOP_SECONDS - time.monotonic())
                _, alive = psutil.wait_procs(tree, timeout=remaining)
                for process in alive:
                    with contextlib.suppress(psutil.Error):
                        if process.status() != psutil.STATUS_ZOMBIE:
                            left.append(f"{process.pid} {' '.join(process.cmdline()[:4])}")
                        process.kill()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if check:
            assert not left, (
                f"{len(left)} process(es) of `rewards ui` still running {STOP_SECONDS:.0f} s "
                f"after {signal.Signals(signum).name}: {left}; log:\n{log_tail(self.log_path)}"
            )

    def __enter__(self) -> DagsterDev:
        try:
            return self.start()
        except BaseException:
            self.stop(check=False)
            raise

    def __exit__(self, exc_type, *exc) -> None:
        self.stop(check=exc_type is None)


def _process_tree(pid: int) -> list[psutil.Process]:
    try:
        leader = psutil.Process(pid)
        return [leader, *leader.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


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
