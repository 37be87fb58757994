"""Shared fixtures: hand-built landing folders run through the real Dagster + dbt pipeline."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import finance_cases, rulebook_cases
from support.pipeline import run_pipeline_on

# Hypothesis (tests/test_contract_fuzz.py): a fixed, modest run by default (about a minute);
# `pytest --hypothesis-profile=long` for a long local one, new examples every time
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


# The tests' temporary folders live in memory where the machine has room for them (/dev/shm, a
# tmpfs on Linux): the suite writes hundreds of small DuckDB and SQLite files (Dagster's event
# log commits, and syncs, once per event: 645 events a run), and on a disk kept busy by two
# workers and a Spark cluster each sync waits (docs/benchmarks.md, "The suite: temporary files
# in memory"). Nothing a test checks depends on the disk: a killed process leaves the same files
# either way. A `--basetemp` given on the command line wins; without /dev/shm, or with less than
# SCRATCH_FREE free there, pytest's default.
SCRATCH_ROOT = Path("/dev/shm")
SCRATCH_FREE = 4 << 30  # one run of the suite leaves about 0.8 GB there
_SCRATCH = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)  # before pytest's tmp_path plugin reads --basetemp
def pytest_configure(config) -> None:
    if config.option.basetemp or hasattr(config, "workerinput"):
        return  # given, or an xdist worker's: a folder in the controller's
    if not (SCRATCH_ROOT.is_dir() and os.access(SCRATCH_ROOT, os.W_OK)):
        return
    if shutil.disk_usage(SCRATCH_ROOT).free < SCRATCH_FREE:
        return
    scratch = Path(tempfile.mkdtemp(prefix="short-video-rewards-tests-", dir=SCRATCH_ROOT))
    config.option.basetemp = str(scratch)
    config.stash[_SCRATCH] = scratch


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    """Memory is given back when every test passed; after a failure the files stay for its
    post-mortem, and the last line says where."""
    scratch = session.config.stash.get(_SCRATCH, None)
    if scratch is None:
        return
    if exitstatus == 0:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(
            f"the tests' temporary files are kept in {scratch} (in memory: delete it when done)"
        )


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return (
        {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in folder.rglob("*") if f.is_file()}
        if folder.is_dir()
        else {}
    )


@pytest.fixture(scope="session", autouse=True)
def _repository_data_untouched():
    """No test writes into the repository's own data/ (the defaults a user's `rewards demo`
    fills): every test points the pipeline at a temporary folder."""
    from orchestration.settings import REPO_ROOT

    before = _listing(REPO_ROOT / "data")
    yield
    after = _listing(REPO_ROOT / "data")
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    assert not changed, f"the tests wrote into the repository's data/: {changed[:5]}"


# Variables libraries write into the process themselves, whatever the project does: pytest's own,
# and Snowflake's partner tag, which Great Expectations sets each time it builds a SQL engine
# (Dagster sets it once, if unset). Which test is first to build one depends on which xdist worker
# ran the shared fixtures, so the first check to run in a worker would otherwise fail at random.
LIBRARY_VARIABLES = {"PYTEST_CURRENT_TEST", "SF_PARTNER"}


@pytest.fixture(autouse=True)
def _environment_unchanged():
    """Configuration travels as values (Settings, the dbt runner's env), never through this
    process's environment: every test leaves `os.environ` exactly as it found it (but for the
    libraries' own LIBRARY_VARIABLES)."""
    saved = dict(os.environ)
    yield
    changed = sorted(
        k
        for k in saved.keys() | os.environ.keys()
        if saved.get(k) != os.environ.get(k) and k not in LIBRARY_VARIABLES
    )
    assert not changed, f"the test changed os.environ: {changed}"


# The longest modules, longest first (seconds of setup, call and teardown in one run of the suite
# on this 2-core machine, `pytest --durations=0`: spark ~510 on the local cluster (issue 31,
# `-n 0`: the Dagster graph on Spark, its unit tests, the side loads; docs/spark.md), browser
# 185, cli 143, finance 122 with the finance runs, daily runs 67, contract fuzz 63, quality 53,
# generated end to end 49, incremental 31): started first, they do not leave one worker busy
# after the other has finished.
# pytest-xdist hands out whole modules in this order (`--no-loadscope-reorder` in pyproject.toml:
# by default it re-sorts them by their number of tests).
LONGEST_MODULES = (
    "test_spark",
    "test_browser",
    "test_cli",
    "test_finance",
    "test_daily_runs",
    "test_contract_fuzz",
    "test_quality",
    "test_generated_end_to_end",
    "test_incremental",
)


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        name = item.module.__name__
        return LONGEST_MODULES.index(name) if name in LONGEST_MODULES else len(LONGEST_MODULES)

    items.sort(key=rank)  # stable: each module's tests keep their order


def _shared_root(tmp_path_factory, worker_id: str) -> Path:
    """The test session's temporary folder that every xdist worker shares."""
    shared = tmp_path_factory.getbasetemp()
    return shared.parent if worker_id != "master" else shared


@contextlib.contextmanager
def _built_once(shared: Path, name: str, worker_id: str):
    """For a fixture built once per test session, whichever xdist worker asks first: yields
    (folder, built) under a lock; the builder writes the folder and `built` is then touched."""
    from orchestration.warehouse_lock import WarehouseLock

    root = shared / name
    lock = WarehouseLock(shared / f"{name}-runs")
    lock.acquire(f"the {name} runs, built by {worker_id}", wait_seconds=1800)
    try:
        built = root / ".built"
        if not built.exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
        yield root, built
    finally:
        lock.release()


@pytest.fixture(scope="session")
def rulebook_run(tmp_path_factory, worker_id):
    """The rulebook landing (tests/support/rulebook_cases.py) run once per test session, by the
    first xdist worker to ask (the others, and test_spark.py's worker, read it); every rule test
    reads it and none writes to it."""
    land, expected, quarantine = rulebook_cases.build()
    with _built_once(_shared_root(tmp_path_factory, worker_id), "rulebook", worker_id) as (
        root,
        built,
    ):
        warehouse = root / "warehouse.duckdb"
        summary_file = root / "summary.pickle"
        if not built.exists():
            landing = land.write(root / "landing")
            summary = run_pipeline_on(landing, warehouse)
            summary_file.write_bytes(pickle.dumps(summary))
            built.touch()
        summary = pickle.loads(summary_file.read_bytes())
    return {
        "warehouse": warehouse,
        "expected": expected,
        "quarantine": quarantine,
        "summary": summary,
    }


@pytest.fixture
def java():
    """Java on PATH, for the Spark tests: skipped without it, but failed when CI=true."""
    from support.spark_cluster import java_required

    java_required()


@pytest.fixture(scope="session")
def spark_cluster_starting(tmp_path_factory):
    """The session's local Spark cluster, starting in the background (support/spark_cluster.py);
    `.cluster()` waits for it. Only tests/test_spark.py asks for it (one worker owns it)."""
    from support.spark_cluster import ClusterStarting, java_required

    java_required()
    starting = ClusterStarting(tmp_path_factory.mktemp("spark"))
    yield starting
    starting.stop()


@pytest.fixture(scope="session")
def spark_cluster(spark_cluster_starting):
    """The session's local Spark cluster, started."""
    return spark_cluster_starting.cluster()


@pytest.fixture(scope="session")
def finance_runs(tmp_path_factory, worker_id):
    """The finance landing (tests/support/finance_cases.py) run through the whole pipeline after
    each of its two deliveries, once per test session: the first xdist worker to ask builds it
    in the session's shared temporary folder, under a lock, and the other finds it built. Each
    run's serving copy, and the warehouse after day 2, are kept as copies as they were then: the
    finance modules read those, or build their own ledgers on them. Only test_finance works in
    the live folders (its last test lands a third day there)."""
    root = _shared_root(tmp_path_factory, worker_id) / "finance"
    paths = {
        "root": root,
        "landing": root / "landing",
        "warehouse": root / "warehouse.duckdb",
        "serving": root / "warehouse.serving.duckdb",
        "ledger": root / "warehouse.ledger.duckdb",
        "day1_serving": root / "day1.serving.duckdb",
        "day2_serving": root / "day2.serving.duckdb",
        "day2_warehouse": root / "day2.warehouse.duckdb",
    }
    with _built_once(root.parent, "finance", worker_id) as (_, built):
        if not built.exists():
            land, refunded = finance_cases.day1()
            land.write(paths["landing"])
            run_pipeline_on(paths["landing"], paths["warehouse"])
            shutil.copyfile(paths["serving"], paths["day1_serving"])
            finance_cases.day2(refunded).write(paths["landing"])
            run_pipeline_on(paths["landing"], paths["warehouse"])
            shutil.copyfile(paths["serving"], paths["day2_serving"])
            shutil.copyfile(paths["warehouse"], paths["day2_warehouse"])
            built.touch()
    return paths
