"""Resources shared by every domain: the landing directory and the DuckDB warehouse file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource, EnvVar, Failure, InitResourceContext
from pydantic import Field, PrivateAttr

from ..dbt_runner import warehouse_env
from ..rule_vars import RuleVarError, RuleVars, resolve_rule_vars
from ..settings import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_SPARK_DIR,
    ENGINE_ENV,
    LANDING_ENV,
    LANDING_URI_ENV,
    LEDGER_ENV,
    MEMORY_LIMIT_ENV,
    QUALITY_DIR_ENV,
    SERVING_ENV,
    SPARK_CONF_DIR_ENV,
    SPARK_DIR_ENV,
    SPARK_EXECUTOR_MEMORY_ENV,
    SPARK_MASTER_ENV,
    SPARK_RAW_URI_ENV,
    SPARK_THRIFT_ENV,
    TEMP_DIR_ENV,
    THREADS_ENV,
    WAREHOUSE_ENV,
    Settings,
    SparkSettings,
    hadoop_uri,
    parse_engine,
    parse_heap_mib,
    parse_host_port,
)
from ..warehouse_lock import RUN_WAIT_SECONDS, WarehouseBusy, WarehouseLock, held_for_run


class LandingResource(ConfigurableResource):
    """The landing directory: one folder per dataset of the data contract."""

    path: str

    def dataset_dir(self, dataset: str) -> Path:
        return Path(self.path) / dataset


class WarehouseResource(ConfigurableResource):
    """The embedded DuckDB warehouse file and how much of the machine DuckDB may use.

    A run holds the warehouse's advisory lock from its first step to its end (set up once per
    run by the in-process executor), so no other process opens the file between two of its
    steps; it waits for a reader that holds it (orchestration/warehouse_lock.py). A run that
    `rewards run` executes finds the lock held for it by that command, which keeps it until it
    has read the run's summary."""

    path: str
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = 2
    temp_directory: str = ""
    _lock: WarehouseLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        if held_for_run(Path(self.path)):  # `rewards run` holds it for this run already (D56)
            return
        log = context.log.warning if context.log is not None else None
        lock = WarehouseLock(Path(self.path))
        run_id = context.run.run_id if context.run is not None else "outside a run"
        try:
            lock.acquire(f"Dagster run {run_id}", RUN_WAIT_SECONDS, log)
        except WarehouseBusy as exc:
            raise Failure(description=str(exc)) from exc
        self._lock = lock

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def scratch_dir(self) -> str:
        """DuckDB's temp folder (`<warehouse>.tmp` unless set), for a run's other scratch too."""
        folder = Path(self.temp_directory or Path(self.path).with_suffix(".tmp"))
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)

    def dbt_env(self) -> dict[str, str]:
        """What dbt's profile reads to open this warehouse with these resources."""
        return warehouse_env(
            self.path,
            self.memory_limit,
            self.threads,
            self.scratch_dir(),
        )

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse and close it again, so the dbt process can take the file next."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit, "threads": self.threads}
        if self.temp_directory:
            config["temp_directory"] = self.temp_directory
        con = duckdb.connect(self.path, read_only=read_only, config=config)
        con.execute("set enable_progress_bar = false")
        try:
            yield con
        finally:
            con.close()


class EngineResource(ConfigurableResource):
    """Where a run loads the landing files and builds the models (REWARDS_ENGINE, D89):
    `duckdb`, the embedded warehouse, or `spark`. On Spark, with `spark_thrift` empty the run
    starts a local standalone cluster in `spark_dir` when its first step needs it and stops it
    when the run ends (a run resource); with `spark_thrift` (HOST:PORT) it uses that Thrift
    server, and `spark_master` for the loader's application, started with the Spark configuration
    folder `spark_conf_dir` when given; the loader writes the raw tables under `spark_raw_uri`
    (default `<spark_dir>/raw`), and `spark_executor_memory` sizes a local cluster's executors
    (docs/spark.md)."""

    engine: str = "duckdb"
    spark_dir: str = ""
    spark_thrift: str = ""
    spark_master: str = ""
    spark_conf_dir: str = ""
    spark_executor_memory: str = ""
    spark_raw_uri: str = ""
    landing_uri: str = ""
    _cluster: ExitStack | None = PrivateAttr(default=None)  # holds the run's cluster, if any
    _spark: tuple[Any, Any] | None = PrivateAttr(default=None)
    _loads: dict | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        """`duckdb` or `spark`, however the setting was written (a value from the UI's
        environment is checked here too)."""
        return parse_engine(self.engine or "duckdb")

    @property
    def on_spark(self) -> bool:
        return self.name == "spark"

    def spark_settings(self) -> SparkSettings:
        return SparkSettings(
            spark_dir=Path(self.spark_dir or DEFAULT_SPARK_DIR),
            thrift=parse_host_port(self.spark_thrift) if self.spark_thrift else None,
            master=self.spark_master or None,
            landing_uri=self.landing_uri or None,
            conf_dir=Path(self.spark_conf_dir) if self.spark_conf_dir else None,
            executor_mib=parse_heap_mib(self.spark_executor_memory)
            if self.spark_executor_memory
            else None,
            raw_uri=hadoop_uri(self.spark_raw_uri) if self.spark_raw_uri else None,
        )

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._cluster is not None:
            self._cluster.close()  # stops a local cluster the run started
            self._cluster = None

    def spark(self) -> tuple[Any, Any]:
        """(the Thrift endpoint, what applications are submitted to): the given server, or the
        run's local cluster, started on first use (`spark.landing.spark_cluster`)."""
        from ..spark.landing import spark_cluster

        if self._cluster is None:
            stack = ExitStack()
            self._spark = stack.enter_context(spark_cluster(self.spark_settings()))
            self._cluster = stack
        return self._spark

    def spark_loads(self, landing: Path, datasets: list[str]) -> dict:
        """The Spark loader's results for `datasets` of the landing (this resource's
        `landing_uri`, else the local folder `landing`), loaded once per run by one
        application (D85): dataset -> LoadResult, or the LandingError refusing it."""
        from ..spark.landing import load_landing_results

        if self._loads is None:
            endpoint, target = self.spark()
            settings = self.spark_settings()
            self._loads = load_landing_results(
                endpoint,
                target,
                self.landing_uri or landing,  # made a URI there (hadoop_uri)
                settings.raw_root(),
                settings.spark_dir / "logs" / "apps",
                datasets,
            )
        return self._loads


class RuleVarsResource(ConfigurableResource):
    """The rule parameters of a run: dbt_project.yml's vars with this run's overrides.

    One place for both the dbt builds and the quality checks, so a check judges the marts by the
    very parameters they were built with. From the UI, set `overrides` in the launchpad's
    resources section, e.g. {"reward_rate": "0.02"}: they are parsed and checked once, when the
    run starts. `rewards run --var` has resolved them already and hands the resolved value on
    as it is (`RuleVarsResource.of`), never as text to parse again.
    """

    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Rule parameters to override for this run; keys as in dbt_project.yml vars.",
    )
    # a RuleVars already resolved by the caller (`of`); empty: resolve `overrides`
    resolved_values_json: str = ""
    resolved_overrides_json: str = "{}"

    _resolved: RuleVars | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, rule_vars: RuleVars) -> RuleVarsResource:
        """The resource of vars resolved before the run (`rewards run --var`)."""
        return cls(
            resolved_values_json=rule_vars.values_json,
            resolved_overrides_json=rule_vars.overrides_json,
        )

    def resolved(self) -> RuleVars:
        """This run's rule vars, resolved once (a run's resources are set up once); an unknown
        or invalid var fails the step with the same one line as `rewards run --var`
        (rule_vars.validate_rule_vars)."""
        if self._resolved is None:
            if self.resolved_values_json:
                self._resolved = RuleVars(self.resolved_values_json, self.resolved_overrides_json)
            else:
                try:
                    self._resolved = resolve_rule_vars(self.overrides)
                except RuleVarError as exc:
                    raise Failure(description=str(exc)) from exc
        return self._resolved


class QualityResource(ConfigurableResource):
    """Where Great Expectations keeps validation results and writes the Data Docs site."""

    path: str


class FinanceResource(ConfigurableResource):
    """What finance reads and pays from: the serving copy of the marts and the payout ledger."""

    serving_copy: str
    ledger: str


def resources_from_settings(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    rule_vars: RuleVars | None = None,
) -> dict[str, ConfigurableResource]:
    """The resources of one configuration. With `environ` (the code location `dg dev`
    loads), each setting whose variable is set there is read through Dagster's `EnvVar`, so the
    UI shows where it comes from and a run reads it when it starts; the others, and every value
    derived from the warehouse path, are the resolved `settings`."""

    spark = settings.spark or SparkSettings.from_env(environ)

    def value(name: str, resolved: Any, kind: type = str) -> Any:
        if environ is None or not environ.get(name):
            return resolved
        return EnvVar.int(name) if kind is int else EnvVar(name)

    return {
        "landing": LandingResource(path=value(LANDING_ENV, str(settings.landing_dir))),
        "warehouse": WarehouseResource(
            path=value(WAREHOUSE_ENV, str(settings.warehouse)),
            memory_limit=value(MEMORY_LIMIT_ENV, settings.memory_limit),
            threads=value(THREADS_ENV, settings.threads, int),
            temp_directory=value(TEMP_DIR_ENV, str(settings.temp_directory)),
        ),
        # the launchpad's overrides, or the vars a caller resolved (`rewards run --var`)
        "rule_vars": RuleVarsResource() if rule_vars is None else RuleVarsResource.of(rule_vars),
        "quality": QualityResource(path=value(QUALITY_DIR_ENV, str(settings.quality_dir))),
        "finance": FinanceResource(
            serving_copy=value(SERVING_ENV, str(settings.serving_copy)),
            ledger=value(LEDGER_ENV, str(settings.ledger)),
        ),
        "engine": EngineResource(
            engine=value(ENGINE_ENV, settings.engine),
            spark_dir=value(SPARK_DIR_ENV, str(spark.spark_dir)),
            spark_thrift=value(SPARK_THRIFT_ENV, _host_port(spark.thrift)),
            spark_master=value(SPARK_MASTER_ENV, spark.master or ""),
            spark_conf_dir=value(SPARK_CONF_DIR_ENV, str(spark.conf_dir or "")),
            spark_executor_memory=value(
                SPARK_EXECUTOR_MEMORY_ENV, f"{spark.executor_mib}m" if spark.executor_mib else ""
            ),
            spark_raw_uri=value(SPARK_RAW_URI_ENV, spark.raw_uri or ""),
            landing_uri=value(LANDING_URI_ENV, spark.landing_uri or ""),
        ),
    }


def _host_port(address: tuple[str, int] | None) -> str:
    return "" if address is None else f"{address[0]}:{address[1]}"
