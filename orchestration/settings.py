"""Where the landing files and the warehouse live, and how DuckDB may use the machine.

One frozen value, `Settings`, resolved once from the environment (and the CLI's flags) and then
handed to whatever needs it: the runner, the Dagster resources, dbt (dbt_runner.settings_env),
finance. Nothing writes it back into `os.environ`. The defaults keep a fresh clone working
(`data/` under the repository, git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

LANDING_ENV = "REWARDS_LANDING_DIR"
WAREHOUSE_ENV = "REWARDS_WAREHOUSE"
MEMORY_LIMIT_ENV = "REWARDS_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "REWARDS_DUCKDB_THREADS"
TEMP_DIR_ENV = "REWARDS_DUCKDB_TEMP_DIR"
QUALITY_DIR_ENV = "REWARDS_QUALITY_DIR"
SERVING_ENV = "REWARDS_SERVING_COPY"
LEDGER_ENV = "REWARDS_LEDGER"
ENGINE_ENV = "REWARDS_ENGINE"
ENGINES = ("duckdb", "spark")  # where the pipeline computes: docs/spark.md
DAGSTER_HOME_ENV = "DAGSTER_HOME"  # Dagster's own variable: overrides the project's instance

# DuckDB's share of a 24 GB, 2-core machine: the pipeline (DuckDB, dbt and the quality checks
# share one process) stays under 8 GB peak at 100M orders; larger intermediates spill to
# the temp directory (docs/benchmarks.md).
DEFAULT_MEMORY_LIMIT = "5GB"
DEFAULT_LANDING_DIR = REPO_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE = REPO_ROOT / "data" / "warehouse.duckdb"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    memory_limit: str
    threads: int
    temp_directory: Path
    quality_dir: Path
    # What finance reads: a read-only copy of the marts, swapped in after each good run, and the
    # append-only payout ledger (orchestration/finance, docs/finance.md)
    serving_copy: Path
    ledger: Path
    # The Dagster instance (run history, materializations, check results, schedule and sensor
    # state) that `rewards run` and `rewards ui` share (orchestration/instance.py, D27)
    dagster_home: Path
    # Where the landing files are loaded and the models built: the embedded DuckDB warehouse,
    # or Spark (SparkSettings: a local cluster, or a Thrift server and master). On Spark the
    # warehouse file holds the marts as Spark built them, for the summary and finance (D89).
    engine: str = "duckdb"
    spark: SparkSettings | None = None  # where Spark runs (from the environment by default)

    @property
    def landing_elsewhere(self) -> bool:
        """Whether the runs read a landing only the Spark cluster reaches (REWARDS_LANDING_URI
        on the Spark engine): the Spark loader checks it, not this machine."""
        return self.engine == "spark" and self.spark is not None and bool(self.spark.landing_uri)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        landing_dir: Path | None = None,
        warehouse: Path | None = None,
    ) -> Settings:
        """The settings from `environ` (this process's environment by default); `landing_dir`
        and `warehouse` (the CLI's flags) take the place of their variables, and the paths
        derived from the warehouse follow it."""
        environ = os.environ if environ is None else environ
        warehouse = Path(warehouse or environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).resolve()
        return cls(
            landing_dir=Path(
                landing_dir or environ.get(LANDING_ENV) or DEFAULT_LANDING_DIR
            ).resolve(),
            warehouse=warehouse,
            memory_limit=environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
            threads=int(environ.get(THREADS_ENV) or os.cpu_count() or 2),
            temp_directory=Path(
                environ.get(TEMP_DIR_ENV) or warehouse.with_suffix(".tmp")
            ).resolve(),
            # Great Expectations' results and Data Docs (`data_docs/index.html`) of this warehouse
            quality_dir=Path(
                environ.get(QUALITY_DIR_ENV) or warehouse.with_suffix(".gx")
            ).resolve(),
            # not resolved: the serving copy is a link to its current generation (D23)
            serving_copy=Path(
                os.path.abspath(
                    environ.get(SERVING_ENV) or warehouse.with_suffix(".serving.duckdb")
                )
            ),
            ledger=Path(
                environ.get(LEDGER_ENV) or warehouse.with_suffix(".ledger.duckdb")
            ).resolve(),
            dagster_home=Path(
                environ.get(DAGSTER_HOME_ENV) or warehouse.with_suffix(".dagster")
            ).resolve(),
            engine=parse_engine(environ.get(ENGINE_ENV) or "duckdb"),
            spark=SparkSettings.from_env(environ),
        )


def parse_engine(text: str, name: str = ENGINE_ENV) -> str:
    """`duckdb` or `spark` (any case); SettingError, one line, for anything else."""
    engine = text.strip().lower()
    if engine not in ENGINES:
        raise SettingError(f"{name} must be one of {', '.join(ENGINES)}, not {text!r}")
    return engine


SPARK_DIR_ENV = "REWARDS_SPARK_DIR"
SPARK_THRIFT_ENV = "REWARDS_SPARK_THRIFT"
SPARK_MASTER_ENV = "REWARDS_SPARK_MASTER"
SPARK_CONF_DIR_ENV = "REWARDS_SPARK_CONF_DIR"
SPARK_EXECUTOR_MEMORY_ENV = "REWARDS_SPARK_EXECUTOR_MEMORY"
SPARK_RAW_URI_ENV = "REWARDS_SPARK_RAW_URI"
LANDING_URI_ENV = "REWARDS_LANDING_URI"
DEFAULT_SPARK_DIR = REPO_ROOT / "data" / "spark"


class SettingError(ValueError):
    """A setting the project cannot use; the message is one line naming it."""


def parse_host_port(text: str, name: str = SPARK_THRIFT_ENV) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets: `[::1]:10000`) as (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingError(f"{name} must be HOST:PORT (e.g. 127.0.0.1:10000), not {text!r}")
    return host, int(port)


def hadoop_uri(text: str | Path) -> str:
    """A location as a cluster reads it: a URI (`hdfs://...`, `s3a://...`, `file:///...`) as
    given, without a trailing slash; a local folder as its absolute `file://` URI."""
    text = str(text).strip()
    if "://" in text:
        return text.rstrip("/")
    return Path(text).resolve().as_uri()


def parse_heap_mib(text: str, name: str = SPARK_EXECUTOR_MEMORY_ENV) -> int:
    """A JVM heap size as Spark writes it (`512m`, `4g`; any case) in MiB, at least the 450 MiB
    Spark accepts for an executor."""
    match = re.fullmatch(r"(\d+)([mg])", text.strip().lower())
    mib = int(match.group(1)) * (1024 if match.group(2) == "g" else 1) if match else 0
    if mib < 450:
        raise SettingError(
            f"{name} must be a heap size of at least 450m, such as 512m or 4g, not {text!r}"
        )
    return mib


@dataclass(frozen=True)
class SparkSettings:
    """Where the Spark engine runs (docs/spark.md). With `thrift` unset, the project starts a
    local standalone cluster of its own in `spark_dir` (orchestration/spark/cluster.py) and stops
    it after the build; with it set, it uses that Thrift server and starts nothing. `master` is
    the standalone master applications are submitted to (needed only to submit one),
    `conf_dir` the Spark configuration folder those applications start with (its
    spark-defaults.conf: JVM options, memory; unset: spark-submit's own, $SPARK_CONF_DIR), and
    `landing_uri` where that cluster reads the landing files (any Hadoop-compatible path:
    file:///..., hdfs://..., s3a://...). `raw_uri` is where the Spark loader writes the raw
    tables' Parquet folders, a location that cluster writes and reads (unset: `<spark_dir>/raw`,
    D98). `executor_mib` sizes the local cluster's executors that run the build's SQL (unset:
    512 MiB, D77, D97); a cluster of one's own keeps its own."""

    spark_dir: Path
    thrift: tuple[str, int] | None = None
    master: str | None = None
    landing_uri: str | None = None
    conf_dir: Path | None = None
    executor_mib: int | None = None
    raw_uri: str | None = None

    def raw_root(self) -> str:
        """Where the Spark loader writes the raw tables' Parquet folders, as a URI (D98)."""
        return self.raw_uri or hadoop_uri(self.spark_dir / "raw")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        spark_dir: Path | None = None,
        thrift: str | None = None,
    ) -> SparkSettings:
        """The Spark settings from `environ` (this process's environment by default);
        `spark_dir` and `thrift` (the CLI's flags) take the place of their variables. Raises
        SettingError for a malformed value."""
        environ = os.environ if environ is None else environ
        thrift_text = thrift or environ.get(SPARK_THRIFT_ENV) or None
        name = "--thrift" if thrift else SPARK_THRIFT_ENV
        return cls(
            spark_dir=Path(spark_dir or environ.get(SPARK_DIR_ENV) or DEFAULT_SPARK_DIR).resolve(),
            thrift=parse_host_port(thrift_text, name) if thrift_text else None,
            master=environ.get(SPARK_MASTER_ENV) or None,
            landing_uri=environ.get(LANDING_URI_ENV) or None,
            conf_dir=Path(conf_dir).resolve()
            if (conf_dir := environ.get(SPARK_CONF_DIR_ENV))
            else None,
            executor_mib=parse_heap_mib(memory)
            if (memory := environ.get(SPARK_EXECUTOR_MEMORY_ENV))
            else None,
            raw_uri=hadoop_uri(raw) if (raw := environ.get(SPARK_RAW_URI_ENV)) else None,
        )
