"""The landing files to Spark's `raw` database on a cluster (D69-D73): the Spark loader
(orchestration/defs/landing/spark_loader.py) with its two interfaces served by the cluster --
SQL through the Thrift server (the one process that owns the metastore) and its application
(`spark_app.main`) submitted to the standalone master (submit.py), each through
`app_launcher.py`. No DuckDB between the landing files and the marts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..contract import DATASETS
from ..defs.landing.bookkeeping import LoadResult
from ..defs.landing.files import LandingError
from ..defs.landing.spark_loader import load_datasets_outcomes
from ..serving_layout import Figure, program_summary_query
from ..settings import SparkSettings, hadoop_uri
from ..summary import UNBALANCED_QUERY, RunSummary
from .build import build_models, read_tables
from .cluster import LocalCluster, Memory, ThriftEndpoint
from .submit import submit
from .thrift import thrift_connection

LAUNCHER = Path(__file__).with_name("app_launcher.py")
Submittable = LocalCluster | ThriftEndpoint  # what an application is submitted to


class SubmittedApps:
    """The loader's AppRunner: each application is submitted to the master of `target`, its log
    in `log_dir`; a failed one is a ClusterError quoting its log (submit.py)."""

    def __init__(self, target: LocalCluster | ThriftEndpoint, log_dir: Path) -> None:
        self.target = target
        self.log_dir = log_dir

    def run_app(self, module_main: str, args: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"app-{module_main.rsplit('.', 1)[-1]}-{time.time_ns()}.log"
        submit(self.target, LAUNCHER, [module_main, *args], log=log, driver_memory="1g")


def load_landing_results(
    endpoint: ThriftEndpoint,
    target: LocalCluster | ThriftEndpoint,
    landing: str | Path,
    root: str,
    log_dir: Path,
    datasets: Sequence[str] = tuple(DATASETS),
) -> dict[str, LoadResult | LandingError]:
    """Load `datasets` of the landing folder (a local folder or any Hadoop-compatible URI) into
    Spark's `raw` database, each with its quarantine (R12), by one application; `root`: where
    the raw tables' Parquet folders go (a URI the cluster writes). Each dataset's LoadResult,
    or the LandingError (one line naming the file) refusing it."""
    base = hadoop_uri(landing)  # a URI as given, a local folder as file://
    apps = SubmittedApps(target, log_dir)
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        return load_datasets_outcomes(sql, apps, {d: f"{base}/{d}" for d in datasets}, root)


def load_landing(
    endpoint: ThriftEndpoint,
    target: LocalCluster | ThriftEndpoint,
    landing: str | Path,
    root: str,
    log_dir: Path,
) -> dict[str, LoadResult]:
    """Every dataset of the landing loaded (`load_landing_results`); raises the first
    LandingError once the other datasets are loaded."""
    outcomes = load_landing_results(endpoint, target, landing, root, log_dir)
    for outcome in outcomes.values():
        if isinstance(outcome, LandingError):
            raise outcome
    return outcomes  # type: ignore[return-value] -- every one a LoadResult


@contextmanager
def spark_cluster(settings: SparkSettings) -> Iterator[tuple[ThriftEndpoint, Submittable]]:
    """The Thrift server and the master of `settings`, or a local cluster in its Spark folder,
    started for the block and stopped after it (also on an error or Ctrl-C)."""
    if settings.thrift is not None:
        host, port = settings.thrift
        endpoint = ThriftEndpoint(host, port, settings.master, conf_dir=settings.conf_dir)
        yield endpoint, endpoint
        return
    with local_cluster(settings) as cluster:
        yield cluster.endpoint, cluster


def local_cluster(
    settings: SparkSettings, environ: Mapping[str, str] | None = None
) -> LocalCluster:
    """The local cluster of `settings` (not started): in its Spark folder, its executors sized
    by `executor_mib` when set (D97); its processes' environment `environ` (this process's by
    default), where `HADOOP_CONF_DIR` names the file systems of a lake, as for any Spark."""
    memory = None if settings.executor_mib is None else Memory.with_executor(settings.executor_mib)
    return LocalCluster(settings.spark_dir, memory=memory, environ=environ)


def build_from_landing(
    landing: str | Path,
    settings: SparkSettings,
    var_overrides: dict[str, Any] | None = None,
    unit_tests: bool = False,
    tables: Sequence[str] = ("marts.account_rewards",),
    schemas: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Landing files to marts on the Spark of `settings`: the Spark loader (every dataset, with
    its quarantine), then every model with its tests, then `tables` and `schemas` read back;
    `progress(line)` hears when each phase ends, with the time since the start. The raw
    tables' Parquet folders go under `settings.raw_root()` (a path the cluster must be able to
    write, D98). Returns {"loads", "summary", "tables", "schemas"}; raises LandingError (one line
    naming a file), SparkBuildFailed, ClusterError."""
    spark_dir = settings.spark_dir
    started = time.monotonic()

    def done(what: str) -> None:
        if progress is not None:
            progress(f"[{time.monotonic() - started:7.1f}s] {what}")

    with spark_cluster(settings) as (endpoint, target):
        done(
            "Thrift server ready"
            if settings.thrift is not None
            else "local cluster up: master, 2 workers, Thrift server"
        )
        loads = load_landing(
            endpoint, target, landing, settings.raw_root(), spark_dir / "logs" / "apps"
        )
        done("landing files loaded into raw (one application)")
        # a local cluster is stopped at the first Ctrl-C: its running statements end with it
        stop = target.stop if isinstance(target, LocalCluster) else None
        build_models(endpoint, spark_dir, var_overrides, unit_tests, on_interrupt=stop)
        done("dbt build: every model and test passed")
        summary = read_run_summary(endpoint)
        read = {"loads": loads, "summary": summary, **read_tables(endpoint, tables, schemas)}
        done("summary and tables read")
    if settings.thrift is None:
        done("local cluster stopped")
    return read


def read_run_summary(endpoint: ThriftEndpoint) -> RunSummary:
    """`rewards run`'s summary of a Spark build: the programme's figures as
    marts.program_summary labels them (D61) and the reconciliation (R12), by the same queries."""
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        figures = [Figure(*row) for row in sql.query(program_summary_query())]
        unbalanced = [row[0] for row in sql.query(UNBALANCED_QUERY)]
    return RunSummary(figures, unbalanced_identities=unbalanced)
