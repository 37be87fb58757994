"""The `rewards` command as a user runs it: a real subprocess, a real warehouse file."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey
from support.landing_builder import Landing
from support.pipeline import REWARDS, printed_run_id, query, rewards_cli, user_shell_env

from orchestration.warehouse_lock import WarehouseLock, lock_path

ODD_FOLDER = 'a$b c\'d;e "奖励"'


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory) -> Path:
    """R7/R11's float trap: baseline 60.03 -> 26.10, window 1026.10 -> base 1000.00."""
    land = Landing()
    land.account("acct-a")
    land.sale("acct-a", "2025-09-10", "60.03")
    land.sale("acct-a", "2025-12-01", "1026.10")
    land.account("acct-b", enabled=False)
    land.sale("acct-b", "2025-12-01", "50.00")
    # a folder name a user may well have: `$` (which Great Expectations substitutes unless it is
    # escaped), a space, quotes, `;` and Chinese
    return land.write(tmp_path_factory.mktemp("cli") / ODD_FOLDER / "landing")


class StartedRun:
    """`rewards run ARGS` started as a user's shell starts it, in a process group of its own,
    its stdout and stderr in files (read while it runs)."""

    def __init__(self, folder: Path, *args: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.stdout, self.stderr = folder / "stdout", folder / "stderr"
        with open(self.stdout, "w") as out, open(self.stderr, "w") as err:
            self.process = subprocess.Popen(
                [REWARDS, "run", *args],
                stdout=out,
                stderr=err,
                env=user_shell_env(),
                start_new_session=True,
            )
        self.pid = self.process.pid

    def printed(self) -> str:
        return self.stdout.read_text()

    def wait_for(self, condition, what: str, seconds: float = 300.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert self.process.poll() is None, f"run {self.pid} ended before {what}: " + (
                self.stderr.read_text() + self.printed()
            )
            assert time.monotonic() < deadline, f"run {self.pid}: never saw {what}"
            time.sleep(0.1)

    def holds(self, warehouse: Path) -> bool:
        return f"(pid {self.pid}," in WarehouseLock(warehouse).holder()

    def finish(self, seconds: float = 600.0) -> subprocess.CompletedProcess:
        try:
            code = self.process.wait(timeout=seconds)
        finally:
            if self.process.poll() is None:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
        return subprocess.CompletedProcess(
            self.process.args, code, self.printed(), self.stderr.read_text()
        )


@contextlib.contextmanager
def _writing_the_moment_it_is_free(warehouse: Path, seconds: float = 600.0):
    """The warehouse's lock, taken within 10 ms of its release, and the warehouse open for
    writing (DuckDB's own lock) for the block."""
    with open(lock_path(warehouse), "a+") as lock:
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the warehouse was never free"
                time.sleep(0.01)
        try:
            con = duckdb.connect(str(warehouse))
            try:
                yield
            finally:
                con.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _served(serving: Path) -> tuple[str, str]:
    """Which generation finance's serving copy links to, and that file's SHA-256."""
    return os.readlink(serving), hashlib.sha256(serving.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cli_runs(small_landing, tmp_path_factory) -> dict:
    """`rewards run`s started while another holds the warehouse (issue 30), each with its own
    R11 vars, so each summary can only be its own run's (acct-a's reward base is 1000.00):
      A  the defaults: 1000.00 * 0.015 = 15 points;
      B  reward_rate 0.02, cap 18: 20 points, capped at 18.
    A and B start together on a new warehouse, so both create its Dagster instance at once
    (the test holds the warehouse meanwhile, then lets A take it first and takes it itself, as
    an eager next run, the moment A lets it go); B waits for them. Then D, with the defaults,
    starts while B holds the warehouse A built, waits for B, and gets Ctrl-C (SIGINT to its
    process group, as a terminal sends it) once its first step has started."""
    root = tmp_path_factory.mktemp("cli_runs")
    warehouse = root / ODD_FOLDER / "w.duckdb"
    serving = warehouse.with_suffix(".serving.duckdb")
    land = ["--landing", str(small_landing), "--warehouse", str(warehouse)]
    rate = ["--var", "reward_rate=0.02"]
    started: list[StartedRun] = []
    test = WarehouseLock(warehouse)
    test.acquire("the test, while both runs start")
    try:
        a = StartedRun(root / "a", *land)
        b = StartedRun(root / "b", *land, *rate, "--var", "reward_cap_points=18")
        started += [a, b]
        for run in (a, b):
            run.wait_for(lambda run=run: "waiting for the test" in run.printed(), "it waiting")
        os.kill(b.pid, signal.SIGSTOP)  # A takes the warehouse first; B waits, stopped, while
        try:
            test.release()
            a.wait_for(lambda: a.holds(warehouse), "A holding the warehouse")
            # the test takes the warehouse the moment A lets it go and opens it for writing,
            # as an eager next run would, until A has ended: A must have read its summary by
            # then (D56), or it fails on DuckDB's lock
            with _writing_the_moment_it_is_free(warehouse):
                a.process.wait(timeout=600)
        finally:
            os.kill(b.pid, signal.SIGCONT)
        b.wait_for(lambda: b.holds(warehouse), "B holding the warehouse", seconds=600)
        d = StartedRun(root / "d", *land)
        started.append(d)
        d.wait_for(lambda: d.holds(warehouse), "D holding the warehouse", seconds=600)
        served_before_d = _served(serving)  # B's
        d.wait_for(lambda: "▶ raw__" in d.printed(), "D's first step")
        os.killpg(d.pid, signal.SIGINT)
        runs = [run.finish() for run in started]
    finally:
        test.release()
        for run in started:
            if run.process.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.process.wait()
    return {
        "warehouse": warehouse,
        "runs": runs[:2],
        "interrupted": runs[2],
        "served_before_interrupt": served_before_d,
        "served_after_interrupt": _served(serving),
    }


def figures(stdout: str) -> dict[str, str]:
    """The summary's figures (program_summary's, each labelled with its population, numbers one
    way: D61, D62), label -> what is shown."""
    summary = stdout[stdout.index("all enrolled accounts") :].splitlines()
    return {
        label.strip(): shown.strip()
        for label, shown in (re.split(r"  +", line, maxsplit=1) for line in summary if "  " in line)
    }


def test_runs_started_while_another_holds_the_warehouse_each_print_their_own_summary(cli_runs):
    """Issue 30: A and B at once on a new warehouse (both create its Dagster instance), then D
    while B holds the warehouse A built: each waits for the one before; A and B exit 0 and
    print their own summary, read before the next run took the warehouse."""
    a, b = cli_runs["runs"]
    for done in (a, b):
        assert done.returncode == 0 and done.stderr == "", done.stderr + done.stdout
        assert "✓ marts/account_rewards" in done.stdout  # progress per asset
    assert "waiting for the test" in a.stdout and "waiting for the test" in b.stdout
    assert f"waiting for Dagster run {printed_run_id(b.stdout)} " in cli_runs["interrupted"].stdout
    # R11 on acct-a's reward base of 1000.00 (R7: baseline 60.03 * 40 / 92 = 26.10; window
    # 1026.10 - 26.10): A 1000.00 * 0.015 = 15 points; B 1000.00 * 0.02 = 20, capped at 18.
    # acct-b is not eligible (commerce off): only the window GMV of all enrolled accounts holds
    # its 50.00
    for done, points, capped in [
        (a, "15 points", "0 accounts"),
        (b, "18 points", "1 account"),
    ]:
        shown = figures(done.stdout)
        expected = {
            "all enrolled accounts": "2 accounts",
            "eligible accounts": "1 account",
            "ineligible accounts: commerce_not_enabled (R10)": "1 account",
            "capped accounts (eligible accounts)": capped,
            "new entrants (eligible accounts)": "0 accounts",
            "reward points (eligible accounts)": points,
            "reward points before the cap (eligible accounts)": (
                "15 points" if done is a else "20 points"
            ),
            "reward base (eligible accounts)": "1,000.00 CNY",
            "window GMV (eligible accounts)": "1,026.10 CNY",
            "window GMV (all enrolled accounts)": "1,076.10 CNY",
            "quarantined rows (all datasets)": "0 rows",
        }
        assert {label: shown.get(label) for label in expected} == expected, done.stdout


def test_the_last_run_is_served_and_exported(cli_runs, tmp_path):
    warehouse = cli_runs["warehouse"]
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"rewards.{suffix}"
        exported = rewards_cli("export", "--warehouse", str(warehouse), "--out", str(out))
        assert exported.returncode == 0, exported.stderr
        reader = "read_csv" if suffix == "csv" else "read_parquet"
        rows = duckdb.sql(
            f"select account_id, cast(reward_base as decimal(18,2)), reward_points_uncapped, "
            f"reward_points, is_capped from {reader}('{out}') order by 1"
        ).fetchall()
        # B's: 1000.00 * 0.02 = 20 points, capped at 18; acct-b 50.00 * 0.02 = 1, ineligible
        assert rows == [
            ("acct-a", Decimal("1000.00"), 20, 18, True),
            ("acct-b", Decimal("50.00"), 1, 0, False),
        ]


def test_ctrl_c_during_a_run_is_one_line_and_publishes_nothing(cli_runs):
    """Issue 30: Ctrl-C (SIGINT to the run's process group, Dagster's helper processes
    included) once D's first step has started: exit 130, one line on stderr, the warehouse's
    lock free, and finance's serving copy exactly B's."""
    done = cli_runs["interrupted"]
    assert done.returncode == 130, done.stderr + done.stdout
    run_id = printed_run_id_of_started(done.stdout)
    assert done.stderr.splitlines() == [
        f"Error: run {run_id} interrupted; nothing was published (finance's serving copy is "
        "as it was)"
    ], done.stderr
    assert cli_runs["served_after_interrupt"] == cli_runs["served_before_interrupt"]
    assert query(
        cli_runs["warehouse"].with_suffix(".serving.duckdb"),
        "select reward_points from marts.account_rewards where account_id = 'acct-a'",
    ) == [(18,)]
    free = WarehouseLock(cli_runs["warehouse"])
    free.acquire("the test, after the Ctrl-C")  # no wait: TimeoutError if anyone held it
    free.release()


def printed_run_id_of_started(stdout: str) -> str:
    """The run id `rewards run` prints first, before the run starts."""
    (run_id,) = re.findall(r"^\[ *[0-9.]+s\] Dagster run ([0-9a-f-]{36}) ", stdout, re.MULTILINE)
    return run_id


def test_the_run_counts_change_log_rows_and_orders_apart(cli_runs):
    """The landing's three sales are three orders of two change-log rows each (paid, then
    settled: R2): the orders feed and its staging model print 6 change-log rows, the current
    state 3 orders."""
    printed = cli_runs["runs"][0].stdout
    assert re.search(r"✓ raw/orders  6 change-log rows$", printed, re.M), printed
    assert re.search(r"✓ staging/stg_orders  6 change-log rows$", printed, re.M), printed
    assert re.search(r"✓ intermediate/int_orders_current  3 orders$", printed, re.M), printed
    assert re.search(r"✓ raw/videos  \d+ rows", printed), printed


def test_each_cli_run_is_a_run_in_the_projects_instance_with_its_metadata(cli_runs):
    """The runs are in the instance beside the warehouse (D27), under the ids they printed,
    tagged as the CLI's, each with its own materialization of the marts and their metadata:
    the UI's row-count and total plots get a point per run."""
    from dagster import AssetKey, DagsterEventType, DagsterRunStatus

    from expectations import all_suites
    from orchestration.instance import open_instance
    from orchestration.rule_vars import rule_var_defaults

    warehouse = cli_runs["warehouse"]
    printed = [printed_run_id(done.stdout) for done in cli_runs["runs"]]
    assert len(set(printed)) == 2
    with open_instance(warehouse.with_suffix(".dagster")) as instance:
        records = {r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records()}
        # (with the interrupted run, and the failed run of the test below if run)
        assert set(printed) <= set(records)
        for run_id in printed:
            run = records[run_id]
            assert run.job_name == "rewards" and run.status == DagsterRunStatus.SUCCESS
            assert run.tags["rewards/trigger"] == "cli" and run.tags["rewards/command"] == "run"
        materializations = instance.fetch_materializations(
            AssetKey(["marts", "account_rewards"]), limit=10
        ).records
        assert sorted(m.run_id for m in materializations) == sorted(printed)
        by_run = {m.run_id: m.asset_materialization.metadata for m in materializations}
        for run_id in printed:
            assert by_run[run_id]["dagster/row_count"].value == 2
        # R11 by hand: defaults 1000.00 * 0.015 = 15 points; then 0.02 -> 20, capped at 18; the
        # programme's figures are program_summary's, on its materialization (D61)
        summaries = instance.fetch_materializations(
            AssetKey(["marts", "program_summary"]), limit=10
        ).records
        points = {
            m.run_id: m.asset_materialization.metadata["reward points (eligible accounts)"].value
            for m in summaries
        }
        assert [points[run_id] for run_id in printed] == [15, 18]
        # every check's result, per run: all the suites' checks, every one passed
        expected = {
            AssetCheckKey(AssetKey(list(suite.asset_key)), c.name)
            for suite in all_suites(rule_var_defaults())
            for c in suite.checks
        }
        for run_id in printed:
            evaluations = [
                e.dagster_event.event_specific_data
                for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
            ]
            assert expected <= {ev.asset_check_key for ev in evaluations}
            assert all(ev.passed for ev in evaluations)


def test_unreadable_file_fails_run_naming_it_and_keeps_last_good_marts(small_landing, cli_runs):
    from dagster import DagsterRunStatus

    from orchestration.instance import open_instance

    warehouse = cli_runs["warehouse"]
    broken = small_landing / "orders" / "zz_broken.parquet"
    broken.write_text("not parquet at all")
    try:
        done = rewards_cli("run", "--landing", str(small_landing), "--warehouse", str(warehouse))
    finally:
        broken.unlink()
    assert done.returncode == 1
    # one line: the file as the landing directory names it, what is wrong, no class paths
    assert done.stderr.strip().splitlines() == [
        f"Error: run {done.stderr.split()[2]} failed: orders/zz_broken.parquet: not a Parquet "
        "file, or a truncated one (it has no Parquet footer)"
    ], done.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    # the failed load rolled back: the previous raw orders and marts are all still there (the
    # last good run's: 18 points, R11 with B's overrides)
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == 6
    assert (
        con.execute(
            "select reward_points from marts.account_rewards where account_id = 'acct-a'"
        ).fetchone()[0]
        == 18
    )
    con.close()
    # and the UI shows the failed run, under the id the error names
    (run_id,) = re.findall(r"run ([0-9a-f-]{36}) failed", done.stderr)
    assert f"Dagster run {run_id} " in done.stdout
    with open_instance(warehouse.with_suffix(".dagster")) as instance:
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--landing", "/nonexistent/landing"], "landing directory not found"),
        (["run", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
        (["run", "--var", "reward_rate"], "--var expects key=value"),
        (["export", "--out", "x.json"], "--out must end in .csv, .parquet, .xlsx"),
        (
            ["export", "--warehouse", "/nonexistent/w.duckdb", "--out", "x.csv"],
            "no serving copy at /nonexistent/w.serving.duckdb",
        ),
        (["explain", "acct-a", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["publish", "--warehouse", "/nonexistent/w.duckdb"], "no serving copy"),
        (["simulate", "--var", "reward_rat=0.02"], "unknown var(s) reward_rat"),
        # issue 14: values are validated before anything runs
        (["run", "--var", "reward_cap_points=-1"], "reward_cap_points=-1: must be an integer"),
        (["simulate", "--var", "reward_cap_points=-1"], "reward_cap_points=-1: must be an integer"),
        (["run", "--var", "timezone=Mars/Olympus_Mons"], "must be an IANA time zone name"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args, message):
    done = rewards_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


@pytest.mark.parametrize("command", [["run"], ["export", "--out", "x.csv"]])
def test_an_engine_the_project_does_not_have_is_one_line(command, tmp_path):
    """D89: REWARDS_ENGINE is duckdb or spark; anything else, for any command, is one line
    before anything runs."""
    done = subprocess.run(
        [REWARDS, *command, "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**user_shell_env(), "REWARDS_ENGINE": "Oracle"},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: REWARDS_ENGINE must be one of duckdb, spark, not 'Oracle'"
    ], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_instance_folder_dagster_cannot_open_is_the_runs_only_line(small_landing, tmp_path):
    """A warehouse under a folder with `%` (which Dagster's SQLite storage reads as a URL
    escape): one line naming the folder, and no "Dagster run" line before it."""
    warehouse = tmp_path / "p%41" / "w.duckdb"
    done = rewards_cli("run", "--landing", str(small_landing), "--warehouse", str(warehouse))
    assert done.returncode == 2, done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "has a '%' in its path" in lines[0], done.stderr
    assert "Dagster run" not in done.stdout


def test_empty_dataset_folders_are_one_line_before_anything_is_written(tmp_path):
    """D55: folders that exist but hold no file yet (or only a `_`-prefixed one, still being
    written) are named before Dagster starts; nothing is created beside the warehouse."""
    landing = tmp_path / "landing"
    for name in ("account_snapshots", "enrollments", "videos", "orders"):
        (landing / name).mkdir(parents=True)
    (landing / "orders" / "_orders-2025-12-01.csv").write_text("order_id\n")
    warehouse = tmp_path / "wh" / "w.duckdb"
    done = rewards_cli("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert done.returncode == 2, done.stderr + done.stdout
    assert done.stderr.splitlines() == [
        f"Error: landing directory {landing} has no file yet in folder(s): account_snapshots, "
        "enrollments, videos, orders (each needs at least one .csv or .parquet file; names "
        "starting with . or _ are skipped)"
    ], done.stderr
    assert "Dagster run" not in done.stdout
    assert not warehouse.parent.exists()


def test_a_read_only_warehouse_folder_is_one_line_before_any_step(cli_runs, small_landing):
    """D57: the warehouse's folder mounted read-only (a bind mount in a mount namespace of the
    test's own, as a read-only share is; root's permission bits would not stop it) is refused
    in one line naming the folder, in the system's words, before the run's first line."""
    folder = cli_runs["warehouse"].parent
    mounted = [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        'mount --bind -o ro "$1" "$1" && shift && exec "$@"',
        "sh",
        str(folder),
    ]
    probe = subprocess.run(
        [*mounted, "sh", "-c", ': > "$0"/probe', str(folder)], capture_output=True, text=True
    )
    if "Read-only file system" not in probe.stderr:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no read-only bind mount in a user namespace here: {probe.stderr}")
        pytest.skip(f"no read-only bind mount in a user namespace here: {probe.stderr}")
    before = sorted(p.name for p in folder.iterdir())
    done = subprocess.run(
        [
            *mounted,
            REWARDS,
            "run",
            "--landing",
            str(small_landing),
            "--warehouse",
            str(cli_runs["warehouse"]),
        ],
        capture_output=True,
        text=True,
        env=user_shell_env(),
        timeout=300,
    )
    assert done.returncode == 2, done.stderr + done.stdout
    assert done.stderr.splitlines() == [
        f"Error: cannot write to {folder} (read-only file system): a run writes the warehouse, "
        "finance's serving copy, its Dagster instance, its quality results and DuckDB's spill "
        "files there; copy the warehouse to a writable folder and run it there (--warehouse)"
    ], done.stderr
    assert "Dagster run" not in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == before
