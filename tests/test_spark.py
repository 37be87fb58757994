"""Landing files to marts on a Spark cluster (docs/spark.md): the same raw tables, quarantine,
marts, checks and summary as DuckDB's, row for row.

The session's local standalone cluster (master, two workers, Thrift server: conftest's
`spark_cluster_starting`) starts in the background while the rulebook landing
(tests/support/rulebook_cases.py) goes through the real DuckDB pipeline once (`rulebook_run`).
The Spark loader then loads that landing on the cluster (one application submitted to the
master, its SQL through the Thrift server; no DuckDB on the way) and `dbt build --target spark`
builds every model over Thrift with every data test, the R12 reconciliation test and dbt's unit
tests. The raw tables, load log, quarantine, summary and `marts.account_rewards` are compared
with DuckDB's, and with the hand-computed answers of rulebook_cases.py on their own; the quality
suites run on both engines with the same verdicts. One more application loads the file faults
and a `rewards generate --dirty` landing side by side. Every test that needs the cluster is in
this module (one xdist worker owns it); the last one stops it and checks that no JVM is left.
Ctrl-C during a `rewards spark` with a cluster of its own is tests/test_spark_interrupt.py's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psutil
import pytest
from support import rulebook_cases
from support.pipeline import REWARDS, assert_matches_hand_computation, query
from support.spark_cluster import EXECUTOR_MIB, LAKE_URI, alive, cmdline_of, our_jvms
from test_loader import GOOD, HEADER, UNREADABLE

from expectations import all_suites
from orchestration.contract import DATASETS, all_reasons
from orchestration.defs.landing.files import LandingError
from orchestration.rule_vars import rule_var_defaults
from orchestration.settings import DBT_PROJECT_DIR

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("java")]


_, EXPECTED, QUARANTINE = rulebook_cases.build()

COLUMNS = rulebook_cases.REWARD_COLUMNS
MONEY = {"baseline_period_gmv", "baseline_gmv", "window_gmv", "over_quota_gmv", "reward_base"}
POINTS = {"reward_points"}
WHOLE_POINTS = {"reward_points_uncapped"}  # decimal(38,0): more points than a bigint holds (D59)
FLAGS = {"is_eligible", "is_new_entrant", "is_capped"}


@pytest.fixture(scope="module")
def spark(spark_cluster_starting, rulebook_run, tmp_path_factory):
    """The rulebook landing through the whole Dagster asset graph on the Spark engine
    (REWARDS_ENGINE=spark, D89) -- `rewards run`'s own runner, pointed at the session's cluster
    (its Thrift server and master, as at an existing cluster): the landing assets load it with
    the Spark loader (one application submitted to the master, its SQL through the Thrift
    server; no DuckDB between the landing files and the marts), the dbt step builds every model
    over Thrift with its tests as asset checks, the quality suites check every stage through the
    Thrift server, the marts are copied into the warehouse file and the serving copy is
    published from it. dbt's unit tests then run on the cluster too. The tests read what they
    need over the Thrift server."""
    import dataclasses

    from support.pipeline import pipeline_settings

    from orchestration.rule_vars import resolve_rule_vars
    from orchestration.runner import executing, summarize
    from orchestration.settings import SparkSettings
    from orchestration.spark.build import read_tables, run_dbt_on_spark

    cluster = spark_cluster_starting.cluster()
    spark_dir = cluster.spark_dir
    endpoint = cluster.endpoint
    warehouse = tmp_path_factory.mktemp("spark-run") / "warehouse.duckdb"
    settings = dataclasses.replace(
        pipeline_settings(rulebook_run["warehouse"].parent / "landing", warehouse),
        engine="spark",
        spark=SparkSettings(
            spark_dir=spark_dir,
            thrift=(endpoint.host, endpoint.port),
            master=cluster.master_url,
            # the loader's application starts as the cluster's own JVMs do (D94)
            conf_dir=cluster.conf_dir,
            # the raw tables away from the Spark folder, as in a lake (D98)
            raw_uri=(tmp_path_factory.mktemp("lake") / "raw").as_uri(),
        ),
    )
    with executing(settings, resolve_rule_vars({}), quiet=True) as run:
        summary = summarize(settings, run)
        events = run.result.all_events
    unit_tests = run_dbt_on_spark(["test", "--select", "test_type:unit"], spark_dir, endpoint)
    built = read_tables(
        endpoint,
        tables=(
            "marts.account_rewards",
            "marts.reconciliation",
            "marts.quarantine",
            "raw.load_log",
        ),
        schemas=("marts.account_rewards", "raw.orders", "raw.orders_quarantine"),
    )
    tables, schemas = built["tables"], built["schemas"]
    return {
        "dir": spark_dir,
        "cluster": cluster,
        "endpoint": endpoint,
        "settings": settings,
        "events": events,
        "unit_tests": unit_tests,
        "load_ids": {r["dataset"]: r["load_id"] for r in tables["raw.load_log"]},
        "raw_metadata": {
            e.event_specific_data.materialization.asset_key.path[1]: (
                e.event_specific_data.materialization.metadata
            )
            for e in events
            if e.event_type_value == "ASSET_MATERIALIZATION"
            and e.event_specific_data.materialization.asset_key.path[0] == "raw"
        },
        "summary": summary,
        "rewards": tables["marts.account_rewards"],
        "schema": schemas["marts.account_rewards"],
        "raw_orders_schema": schemas["raw.orders"],
        "raw_quarantine_schema": schemas["raw.orders_quarantine"],
        "reconciliation": tables["marts.reconciliation"],
        "quarantine": tables["marts.quarantine"],
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _instant(value: datetime) -> datetime:
    """Both engines give an aware datetime (over Thrift: from the epoch microseconds, in UTC)."""
    assert value.tzinfo is not None, value
    return value.astimezone(UTC)


def _normalized(row: dict) -> dict:
    """Column values with their Python types checked: Decimal money, int points, bool flags."""
    out = {}
    for column in COLUMNS:
        value = row[column]
        if column in MONEY:
            assert type(value) is Decimal, (row["account_id"], column, value)
            assert value.as_tuple().exponent == -2, (row["account_id"], column, value)
        elif column in POINTS:
            assert type(value) is int, (row["account_id"], column, value)
        elif column in WHOLE_POINTS:
            assert type(value) is Decimal, (row["account_id"], column, value)
            assert value.as_tuple().exponent == 0, (row["account_id"], column, value)
        elif column in FLAGS:
            assert type(value) is bool, (row["account_id"], column, value)
        elif column == "enrolled_at":
            value = _instant(value)
        out[column] = value
    return out


@pytest.fixture(scope="module")
def spark_rewards(spark) -> dict[str, dict]:
    return {r["account_id"]: _normalized(r) for r in spark["rewards"]}


@pytest.fixture(scope="module")
def duckdb_rewards(rulebook_run) -> dict[str, dict]:
    rows = query(
        rulebook_run["warehouse"], f"select {', '.join(COLUMNS)} from marts.account_rewards"
    )
    return {r[0]: _normalized(dict(zip(COLUMNS, r, strict=True))) for r in rows}


def _as_text(columns: list[str], kinds: dict[str, str], micros: str, text: str) -> str:
    """A select list that reads each column as comparable values on both engines: instants as
    epoch microseconds (`micros` is the engine's function), dates as text (`text`: the engine's
    string type; PyHive gives dates as text), the rest as they are."""

    def read(column: str) -> str:
        if kinds.get(column) == "timestamp":
            return f"{micros}({column})"
        if kinds.get(column) == "date":
            return f"cast({column} as {text})"
        return column

    return ", ".join(read(c) for c in columns)


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_spark_loader_gives_duckdbs_raw_tables_and_quarantine(spark, rulebook_run, dataset):
    """The landing files loaded on the cluster: every raw row (values, file, row) and every
    quarantined row (file, row, reason, detail, original record) as the DuckDB loader has them
    (D69-D73)."""
    from orchestration.spark.thrift import thrift_connection

    declared = DATASETS[dataset]
    kinds = {c.name: c.kind for c in declared.columns}
    cols = [*declared.column_names, "_source_file", "_source_row"]
    quarantine = "dataset, source_file, source_row, reason, detail, cast(record as {})"
    duck = sorted(
        query(
            rulebook_run["warehouse"],
            f"select {_as_text(cols, kinds, 'epoch_us', 'varchar')} from raw.{dataset}",
        )
    )
    duck_q = sorted(
        query(
            rulebook_run["warehouse"],
            f"select {quarantine.format('varchar')} from raw.{dataset}_quarantine",
        )
    )
    endpoint = spark["endpoint"]
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        on_spark = sql.query(
            f"select {_as_text(cols, kinds, 'unix_micros', 'string')} from raw.{dataset}"
        )
        on_spark_q = sql.query(
            f"select {quarantine.format('string')} from raw.{dataset}_quarantine"
        )
    assert duck and sorted(on_spark) == duck
    assert duck_q and sorted(on_spark_q) == duck_q
    # what the landing asset reported to Dagster: the UI's metadata of raw/<dataset>
    shown = {k: v.value for k, v in spark["raw_metadata"][dataset].items()}
    assert (shown["load_mode"], shown["dagster/row_count"], shown["rows_quarantined"]) == (
        "full",
        len(duck),
        len(duck_q),
    )


def test_spark_loader_keeps_duckdbs_load_log_and_unique_row_ids(spark, rulebook_run):
    from orchestration.defs.landing.spark_loader import load_table
    from orchestration.spark.thrift import thrift_connection

    # load ids number the loads in the order they ran, which Dagster's steps choose on DuckDB:
    # compared apart, each dataset's one full load has its own
    cols = (
        "dataset, files, rows_read, rows_loaded, rows_quarantined, exact_duplicates_collapsed, mode"
    )
    files = "dataset, file, size_bytes, rows_read, rows_quarantined"
    endpoint = spark["endpoint"]
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        assert sorted(sql.query(f"select {cols} from raw.load_log")) == sorted(
            query(rulebook_run["warehouse"], f"select {cols} from raw.load_log")
        )
        ids = sql.query("select load_id, last_full_load_id from raw.load_log")
        assert sorted(a for a, _ in ids) == [1, 2, 3, 4] and all(a == b for a, b in ids)
        loads = sql.query("select dataset, load_id from raw.load_log")
        # each load's folder a table of its own, which the dataset's view reads (D95)
        expected = {"load_files", "load_log"}
        for dataset, load in loads:
            for table in (dataset, f"{dataset}_quarantine"):
                expected |= {table, load_table(table, load)}
        assert {row[1] for row in sql.query("show tables in raw")} == expected
        # written where REWARDS_SPARK_RAW_URI says (D98), nothing under the Spark folder
        lake = spark["settings"].spark.raw_root()
        for dataset, load in loads:
            details = sql.query(f"describe table extended raw.{load_table(dataset, load)}")
            folder = Path(next(row[1] for row in details if row[0] == "Location")[len("file:") :])
            assert folder.as_uri() == f"{lake}/{dataset}/load-{load}"
            assert list(folder.glob("*.parquet"))
        assert not (spark["dir"] / "raw").exists()
        assert sorted(sql.query(f"select {files} from raw.load_files")) == sorted(
            query(rulebook_run["warehouse"], f"select {files} from raw.load_files")
        )
        # a CSV file's SHA-256 as the application read it; a local Parquet file's is left to
        # the serving copy, which reaches it (D99)
        digests = sql.query("select file, sha256 from raw.load_files")
        assert {Path(f).suffix for f, _ in digests} == {".csv", ".parquet"}
        for file, digest in digests:
            assert digest == (_sha(Path(file)) if file.endswith(".csv") else None), file
        # R2's macros need a unique _row_id below 2^34 on every raw table (D71)
        for dataset in DATASETS:
            n, distinct, low, high = sql.query(
                "select count(*), count(distinct _row_id), min(_row_id), max(_row_id) "
                f"from raw.{dataset}"
            )[0]
            assert n == distinct and low >= 0 and high < 2**34, dataset
    orders = dict(spark["raw_orders_schema"])
    assert orders["amount"] == orders["refunded_amount"] == "decimal(18,2)"  # never a float
    assert orders["updated_at"] == orders["created_at"] == orders["settled_at"] == "timestamp"
    assert dict(spark["raw_quarantine_schema"])["record"] == "string"


def test_spark_summary_has_the_same_figures_as_duckdbs_run(spark, rulebook_run):
    """`rewards spark` prints `rewards run`'s summary: the same labelled figures (D61), from
    marts.program_summary built on Spark, and a reconciliation that closes (R12)."""
    on_spark = spark["summary"]
    on_duckdb = rulebook_run["summary"]
    assert [(f.label, f.value) for f in on_spark.figures] == [
        (f.label, f.value) for f in on_duckdb.figures
    ]
    assert on_spark.figures and on_spark.unbalanced_identities == []


def test_account_rewards_types_on_spark(spark):
    # the rulebook's types (docs/rules.md) in Spark's names; the contract was enforced on Spark
    assert spark["schema"] == [
        ("account_id", "string"),
        ("account_type", "string"),
        ("enrolled_at", "timestamp"),
        ("is_eligible", "boolean"),
        ("ineligible_reason", "string"),
        ("is_new_entrant", "boolean"),
        ("baseline_period_gmv", "decimal(38,2)"),
        ("baseline_gmv", "decimal(38,2)"),
        ("window_gmv", "decimal(38,2)"),
        ("over_quota_gmv", "decimal(38,2)"),
        ("reward_base", "decimal(38,2)"),
        ("reward_points_uncapped", "decimal(38,0)"),
        ("reward_points", "bigint"),
        ("is_capped", "boolean"),
    ]


def test_spark_account_rewards_equal_duckdb_row_for_row(spark_rewards, duckdb_rewards):
    assert sorted(spark_rewards) == sorted(duckdb_rewards)
    for account, expected in sorted(duckdb_rewards.items()):
        assert spark_rewards[account] == expected, account


@pytest.mark.parametrize("account", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_spark_matches_hand_computation(spark_rewards, account):
    # R1-R12 on Spark on their own, not only "same as DuckDB"
    assert_matches_hand_computation(spark_rewards, account, EXPECTED[account])


def test_r12_reconciliation_and_quarantine_on_spark(spark, rulebook_run):
    duck = query(
        rulebook_run["warehouse"],
        "select identity, left_side, right_side, difference, is_balanced "
        "from marts.reconciliation order by identity",
    )
    ours = sorted(
        (r["identity"], r["left_side"], r["right_side"], r["difference"], r["is_balanced"])
        for r in spark["reconciliation"]
    )
    assert ours == duck and all(r[4] for r in ours)
    by_reason: dict[str, int] = {}
    for row in spark["quarantine"]:
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + 1
        assert json.loads(row["record"])  # JSON text, every value kept (nulls too)
    assert by_reason == QUARANTINE
    conflict = [
        json.loads(r["record"])
        for r in spark["quarantine"]
        if r["reason"] == "order_version_conflict"
    ]
    assert sorted(r["status"] for r in conflict) == ["refunded", "settled"]
    assert {"settled_at": None}.items() <= min(conflict, key=lambda r: r["status"]).items()


def test_every_model_built_and_every_check_gave_duckdbs_verdict_on_spark(spark, rulebook_run):
    """The Dagster run on Spark materialized every asset of the graph and evaluated every check
    -- dbt's tests and the quality suites -- with DuckDB's run's outcome: as many passed, and
    the same warnings (the rulebook's quarantine, R12). dbt's unit tests (R2, R6, R7/R11 up to
    decimal(38,2), R11, and R11 day by day) pass on the cluster too."""
    materialized = {
        tuple(e.event_specific_data.materialization.asset_key.path)
        for e in spark["events"]
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    models = list((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) >= 20  # staging 4, intermediate 11, marts 8
    assert {("raw", d) for d in DATASETS} <= materialized
    assert sum(key[0] in ("staging", "intermediate", "marts") for key in materialized) == len(
        models
    )
    assert ("serving", "finance_copy") in materialized
    on_spark, on_duckdb = spark["summary"], rulebook_run["summary"]
    assert on_spark.checks_passed == on_duckdb.checks_passed > 100
    assert on_spark.check_warnings == on_duckdb.check_warnings
    results = spark["unit_tests"].result.results
    units = [r for r in results if r.node.unique_id.startswith("unit_test.")]
    assert len(units) == 6 and {str(r.status) for r in units} == {"pass"}
    assert {str(r.status) for r in results if r not in units} <= {"success"}


def test_finance_works_unchanged_on_the_spark_run(spark, rulebook_run, duckdb_rewards, tmp_path):
    """D89: the Spark run published finance's serving copy from the marts it copied into the
    warehouse file; explain, export, ledger init and publish read it as on DuckDB, and what they
    show is DuckDB's rewards."""
    from support.pipeline import cli_ok

    flag = ("--warehouse", str(spark["settings"].warehouse))
    out = tmp_path / "rewards.parquet"
    cli_ok("export", "--out", str(out), *flag)
    exported = duckdb.sql(
        f"select account_id, reward_base, reward_points from read_parquet('{out}')"
    ).fetchall()
    assert {a: (b, p) for a, b, p in exported} == {
        a: (r["reward_base"], r["reward_points"]) for a, r in duckdb_rewards.items()
    }
    explained = cli_ok("explain", "r7_half_up", *flag)
    assert "r7_half_up" in explained and "R7" in explained
    cli_ok("ledger", "init", "--by", "alice", *flag)
    published = cli_ok("publish", "--by", "alice", *flag)
    assert "payout run 1" in published
    # the copy names every landing file with its digest: the Spark loader's, or its own (D99)
    served = query(spark["settings"].serving_copy, "select file, sha256 from serving.input_files")
    loaded = query(rulebook_run["warehouse"], "select file from raw.load_files")
    assert sorted(f for f, _ in served) == sorted(f for (f,) in loaded)
    assert all(digest == _sha(Path(f)) for f, digest in served)


def test_cli_spark_names_a_missing_landing_folder_before_any_jvm(tmp_path):
    done = subprocess.run(
        [
            REWARDS,
            "spark",
            "--landing",
            str(tmp_path / "nowhere"),
            "--spark-dir",
            str(tmp_path / "spark"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"Error: landing directory not found: {tmp_path}/nowhere"]
    assert not (tmp_path / "spark").exists()


def test_cli_spark_refuses_a_thrift_address_without_a_port(tmp_path):
    done = subprocess.run(
        [REWARDS, "spark", "--landing", str(tmp_path), "--thrift", "localhost"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--thrift must be HOST:PORT" in done.stderr


def test_cli_spark_refuses_an_out_file_it_cannot_write_before_any_jvm(rulebook_run, tmp_path):
    landing = rulebook_run["warehouse"].parent / "landing"
    (tmp_path / "a-file").write_text("in the way")
    for out, words in [
        (tmp_path / "rewards.txt", "--out must end in .csv, .parquet, got 'rewards.txt'"),
        (tmp_path / "a-file" / "rewards.csv", f"cannot write {tmp_path}/a-file/rewards.csv"),
    ]:
        done = subprocess.run(
            [REWARDS, "spark", "--landing", str(landing), "--spark-dir", str(tmp_path / "spark")]
            + ["--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
        assert not (tmp_path / "spark").exists()  # refused before the cluster


def test_out_file_holds_account_rewards_with_their_types(
    spark, duckdb_rewards, rulebook_run, tmp_path
):
    """`rewards spark --out`'s writer (orchestration/spark/output.py) on the Spark build's
    rows: Parquet with the mart's types, DuckDB's own (DECIMAL money, never a float), CSV with
    two decimals; both equal DuckDB's marts.account_rewards."""
    from orchestration.spark.output import write_rows

    parquet, text = tmp_path / "rewards.parquet", tmp_path / "rewards.csv"
    for out in (parquet, text):
        assert write_rows(spark["rewards"], spark["schema"], out, "Asia/Shanghai") == len(
            duckdb_rewards
        )
    relation = duckdb.sql(f"select {', '.join(COLUMNS)} from read_parquet('{parquet}')")
    types = dict(zip(relation.columns, map(str, relation.dtypes), strict=True))
    assert types == dict(
        query(
            rulebook_run["warehouse"],
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'account_rewards' "
            f"and column_name in ({', '.join(repr(c) for c in COLUMNS)})",
        )
    )
    assert types["baseline_gmv"] == "DECIMAL(38,2)" and types["enrolled_at"].endswith("TIME ZONE")
    written = {r[0]: _normalized(dict(zip(COLUMNS, r, strict=True))) for r in relation.fetchall()}
    assert written == duckdb_rewards
    as_text = duckdb.sql(f"select * from read_csv('{text}', all_varchar = true)")
    header = as_text.columns
    by_account = {r[0]: dict(zip(header, r, strict=True)) for r in as_text.fetchall()}
    assert header[0] == "account_id"
    assert by_account.keys() == duckdb_rewards.keys()
    for account, row in duckdb_rewards.items():
        for column in MONEY:
            assert by_account[account][column] == str(row[column]), (account, column)


# --- The Great Expectations suites on Spark give DuckDB's verdicts (D81-D83) ---
# Every suite of every stage runs on both engines from the same declarations
# (`all_suites(rule_vars, engine=...)`): on DuckDB with `run_suite` on a copy of the rulebook
# warehouse whose check scopes are forgotten (every row validated, as on Spark, D83), on Spark
# with `run_suite_on_spark` through the cluster's Thrift server, on the `spark` fixture's build.
# Check by check, the verdict and the count of unexpected rows must be equal. Then the same two
# breaches are planted on both engines: a quarantine row the load log does not know of, and
# staging days in UTC instead of Beijing (R1).

# quarantined by the models, not by the loader: counted in marts.quarantine, no warn check (Q7)
MODEL_REASONS = {
    "order_version_conflict",
    "video_not_found",
    "video_not_commerce",
    "video_of_other_account",
}

# Breach 1: a copy of the one orders row quarantined as non_positive_amount, unknown to the load
# log. Breach 2: stg_videos' published_day as the UTC date, which moves v-r6-bj-1 (published
# 2025-11-24T16:30Z = 00:30 on 25 Nov in Beijing) to 24 Nov; every other video of the rulebook is
# published between 08:00 and 24:00 Beijing time, where both dates agree.
QUARANTINE_COPY = (
    "insert into raw.orders_quarantine "
    "select * from raw.orders_quarantine where reason = 'non_positive_amount'"
)
UTC_DAY_VIEW = (
    "create or replace view staging.stg_videos as select video_id, account_id, is_commerce, "
    "published_at, deleted_at, {utc_day} as published_day, "
    "_source_file as source_file, _source_row as source_row from raw.videos"
)
UTC_DAY = {
    "duckdb": "cast(timezone('UTC', published_at) as date)",
    # whole days since the epoch: the UTC date, whatever the session's time zone
    "spark": "date_from_unix_date(cast(floor(unix_seconds(published_at) / 86400) as int))",
}
BREACHED = ("raw.orders_quarantine", "staging.stg_videos")


def _verdicts(outcomes_by_suite) -> dict[tuple[str, str], tuple[bool, int]]:
    return {
        (name, o.check.name): (o.passed, o.unexpected)
        for name, outcomes in outcomes_by_suite.items()
        for o in outcomes
    }


def _on_duckdb(warehouse: Path, quality_dir: Path, names: tuple[str, ...]):
    from orchestration.defs.quality.validation import run_suite
    from orchestration.defs.resources import WarehouseResource

    resource = WarehouseResource(path=str(warehouse))
    return _verdicts(
        {
            s.name: run_suite(s, resource, quality_dir)
            for s in all_suites(rule_var_defaults(), engine="duckdb")
            if s.name in names
        }
    )


def _on_spark(server, quality_dir: Path, names: tuple[str, ...]):
    from orchestration.defs.quality.spark_validation import ThriftServer, run_suite_on_spark

    thrift = ThriftServer(*server)
    return _verdicts(
        {
            s.name: run_suite_on_spark(s, thrift, quality_dir)
            for s in all_suites(rule_var_defaults(), engine="spark")
            if s.name in names
        }
    )


def _run_verdicts(evaluations, engine: str) -> dict[tuple[str, str], tuple[bool, int]]:
    """Every suite check's (passed, unexpected) from a Dagster run's check evaluations."""
    by_key = {(tuple(ev.asset_key.path), ev.check_name): ev for ev in evaluations}
    return {
        (suite.name, check.name): (
            by_key[(tuple(suite.asset_key), check.name)].passed,
            by_key[(tuple(suite.asset_key), check.name)].metadata["unexpected"].value,
        )
        for suite in all_suites(rule_var_defaults(), engine=engine)
        for check in suite.checks
    }


@pytest.fixture(scope="module")
def verdicts(spark, spark_cluster_starting, rulebook_run, tmp_path_factory):
    """Every check's (passed, unexpected) on each engine: clean, as the two Dagster runs' check
    steps gave them (DuckDB's rulebook run, the `spark` fixture's run), and after the two
    breaches, from the suites run again on a copy of DuckDB's warehouse and on the `spark`
    fixture's build on the session's cluster. The breaches change that build's tables; the
    other tests read them through `spark`, which read them before."""
    from dagster import DagsterEventType

    from orchestration.defs.landing.spark_loader import load_table
    from orchestration.instance import open_instance
    from orchestration.spark.thrift import thrift_connection

    endpoint = spark_cluster_starting.cluster().endpoint
    root = tmp_path_factory.mktemp("quality_spark")
    summary = rulebook_run["summary"]
    with open_instance(Path(summary.dagster_home)) as instance:
        logged = instance.all_logs(
            summary.dagster_run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        )
    out = {"duckdb": _run_verdicts([e.dagster_event.event_specific_data for e in logged], "duckdb")}
    warehouse = root / "warehouse.duckdb"
    shutil.copy(rulebook_run["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(QUARANTINE_COPY)
        con.execute(UTC_DAY_VIEW.format(utc_day=UTC_DAY["duckdb"]))
        # the rulebook run recorded its passes: forget them, as after the load that would have
        # brought the breach (D30); Spark records none (D83)
        con.execute("delete from quality.checked_through")
    out["duckdb_breached"] = _on_duckdb(warehouse, root / "duckdb.gx", BREACHED)

    server = (endpoint.host, endpoint.port)
    out["spark"] = _run_verdicts(
        [
            e.event_specific_data
            for e in spark["events"]
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ],
        "spark",
    )
    # raw.orders_quarantine is a view over its load's table (D72, D95): the breach is the view
    # again with the copied row
    load = "raw." + load_table("orders_quarantine", spark["load_ids"]["orders"])
    with thrift_connection(*server) as sql:
        sql.execute(
            f"create or replace view raw.orders_quarantine as select * from {load} union all "
            f"select * from {load} where reason = 'non_positive_amount'"
        )
        sql.execute(UTC_DAY_VIEW.format(utc_day=UTC_DAY["spark"]))
    out["spark_breached"] = _on_spark(server, root / "spark.gx", BREACHED)
    return out


def test_every_check_runs_on_spark_with_duckdbs_verdict_and_count(verdicts):
    every = {
        (s.name, c.name) for s in all_suites(rule_var_defaults(), engine="spark") for c in s.checks
    }
    assert set(verdicts["spark"]) == set(verdicts["duckdb"]) == every
    different = {
        key: (verdicts["duckdb"][key], verdicts["spark"][key])
        for key in every
        if verdicts["duckdb"][key] != verdicts["spark"][key]
    }
    assert different == {}


def test_rulebook_passes_every_blocking_check_and_warns_its_quarantine_on_spark(verdicts):
    blocking = {
        (s.name, c.name)
        for s in all_suites(rule_var_defaults(), engine="spark")
        for c in s.checks
        if c.blocking
    }
    failed = {key: count for key, (passed, count) in verdicts["spark"].items() if not passed}
    assert not blocking & set(failed)
    # the warn checks count the loader's quarantine, reason by reason, as the rulebook expects
    by_reason = Counter()
    for (_, check_name), count in failed.items():
        by_reason[check_name.removeprefix("quarantined_")] += count
    assert dict(by_reason) == {r: n for r, n in QUARANTINE.items() if r not in MODEL_REASONS}


def test_a_quarantine_row_the_load_log_does_not_know_blocks_on_both_engines(verdicts):
    for engine in ("duckdb", "spark"):
        breached = verdicts[f"{engine}_breached"]
        # the load log says 11 quarantined orders rows, the table now holds 12: one log row
        assert breached[("raw.orders_quarantine", "rows_match_load_log")] == (False, 1), engine
        # 1 non-positive amount in the rulebook (rulebook_cases: QUARANTINE), now 2
        assert breached[("raw.orders_quarantine", "quarantined_non_positive_amount")] == (
            False,
            2,
        ), engine
    assert verdicts["duckdb_breached"] == verdicts["spark_breached"]


def test_utc_days_in_staging_fail_the_r1_check_on_both_engines(verdicts):
    for engine in ("duckdb", "spark"):
        breached = verdicts[f"{engine}_breached"]
        assert breached[("staging.stg_videos", "published_day_is_beijing_date")] == (False, 1), (
            engine
        )
        # the other checks of the suite still pass: the view keeps every row
        assert breached[("staging.stg_videos", "rows_preserved")] == (True, 0)


# The faults of test_loader.UNREADABLE that take each path of the Spark loader: a zero-byte CSV
# and Parquet file (refused by the plan, before any application), a ragged line (found by the
# CSV parser in an executor), a missing column (the CSV header, in an executor), a truncated
# Parquet file (its footer, in the driver); and `12.345`, which Spark's CSV cast would round
# into cents and the contract quarantines. Every other CSV fault is the same parser's:
# tests/test_spark_csv.py gives it each of them, without a JVM.
ON_THE_CLUSTER = ("empty.csv", "empty.parquet", "ragged.csv", "no_amount.csv", "truncated.parquet")
FAULTS = [case for case in UNREADABLE if case[0] in ON_THE_CLUSTER] + [
    ("lenient.csv", (HEADER + GOOD.replace("10.00", "12.345")).encode(), None),
]


# a next day's orders file (two orders, both good) landed beside the rulebook's (D16)
NEXT_DAY = "orders_zz_next_day.csv"
NEXT_DAY_ROWS = HEADER + GOOD + GOOD.replace("o1,", "o2,")


@pytest.fixture(scope="module")
def side_loads(spark, spark_cluster_starting, rulebook_run, tmp_path_factory) -> dict:
    """Landings of their own, every load of them by one application on the cluster (as a
    landing's four datasets are), none registered. Each fault of FAULTS is an orders folder of
    its own beside a good file; the `rewards generate --dirty` landing (2,000 orders, seed 11)
    is its four datasets, in a lake: read by a URI no local path reaches (LAKE_URI, Hadoop's
    view file system over a local folder). In the same application, the daily case (D16):
    NEXT_DAY lands in the rulebook's orders folder, and its load -- planned from the session's
    bookkeeping, and registered: raw.orders then holds the two new rows too -- appends that
    file alone (the file is removed again after). The tests before this fixture have read the
    rulebook's tables already.
    Returns the refused files' lines, the quarantine rows by reason of the loads that ran, the
    dirty landing's manifest, and the append's plan with raw.orders before and after it."""
    from generator import generate_landing
    from orchestration.defs.landing.spark_loader import finish_load, plan_load, run_loads
    from orchestration.spark.landing import SubmittedApps
    from orchestration.spark.thrift import thrift_connection

    root = tmp_path_factory.mktemp("side-loads")
    lake = spark_cluster_starting.lake_dir  # LAKE_URI
    manifest = generate_landing(lake, n_orders=2000, seed=11, dirty=True)
    folders = {}
    for i, (name, content, _) in enumerate(FAULTS):
        folder = root / f"fault{i}" / "orders"
        folder.mkdir(parents=True)
        (folder / "good.csv").write_text(HEADER + GOOD)
        (folder / name).write_bytes(content)
        folders[name] = ("orders", folder.as_uri())
    folders |= {f"dirty/{d}": (d, f"{LAKE_URI}/{d}") for d in DATASETS}
    endpoint = spark["endpoint"]
    plans, refused = {}, {}
    landed = rulebook_run["warehouse"].parent / "landing" / "orders"
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        for i, (name, (dataset, folder)) in enumerate(folders.items()):
            out = (root / "raw" / str(i)).as_uri()
            try:
                plans[name] = plan_load(sql, DATASETS[dataset], folder, out, 1000)
            except LandingError as exc:  # before any application: a zero-byte file
                refused[name] = str(exc)
        count_orders = "select count(*), max(_row_id), count(distinct _row_id) from raw.orders"
        log = "select mode, files, last_full_load_id from raw.load_log where dataset = 'orders'"
        before = {"orders": sql.query(count_orders)[0], "log": sql.query(log)[0]}
        (landed / NEXT_DAY).write_text(NEXT_DAY_ROWS)
        try:
            (next_id,) = sql.query("select max(load_id) + 1 from raw.load_log")[0]
            raw_root = spark["settings"].spark.raw_root()  # where the session's loads went
            append = plan_load(sql, DATASETS["orders"], landed.as_uri(), raw_root, next_id)
            plans["append"] = append
            apps = SubmittedApps(spark["cluster"], root / "logs")
            outcomes = run_loads(sql, apps, list(plans.values()), (root / "outcomes").as_uri())
            appended = finish_load(sql, append) if outcomes[-1] is None else None
            after = {
                "orders": sql.query(count_orders)[0],
                "log": sql.query(log)[0],
                "new_rows": sql.query(
                    "select order_id, _row_id from raw.orders "
                    f"where _source_file = '{landed / NEXT_DAY}' order by 1"
                ),
                "tables": sorted(row[1] for row in sql.query("show tables in raw like 'orders*'")),
            }
        finally:
            (landed / NEXT_DAY).unlink()
        del plans["append"]
        append_error, outcomes = outcomes[-1], outcomes[:-1]
        refused |= {name: error for name, error in zip(plans, outcomes, strict=True) if error}
        quarantined = {
            name: dict(
                sql.query(
                    f"select reason, count(*) from parquet.`{plan.spec['out']['quarantine']}` "
                    "group by 1"
                )
            )
            for name, plan in plans.items()
            if name not in refused
        }
    return {
        "refused": refused,
        "quarantined": quarantined,
        "manifest": manifest,
        "applications": len(list((root / "logs").glob("*.log"))),
        "lake": ({d: plans[f"dirty/{d}"] for d in DATASETS}, lake),
        "append": {
            "plan": append,
            "error": append_error,
            "result": appended,
            "before": before,
            "after": after,
        },
    }


def test_file_faults_are_one_line_naming_the_file_as_on_duckdb(side_loads):
    """Zero-byte files, a ragged line, a missing column, a truncated Parquet file: each refused
    with DuckDB's line, the other loads of the same application unharmed; `12.345` is
    quarantined as on DuckDB."""
    refused = side_loads["refused"]
    assert sorted(refused) == sorted(name for name, _, message in FAULTS if message)
    for name, _, message in FAULTS:
        if message is not None:
            text = refused[name]
            assert text.startswith(message) and "\n" not in text, (name, text)
    assert side_loads["quarantined"]["lenient.csv"] == {"unparseable_value": 1}
    assert side_loads["applications"] == 1


def test_a_lake_landing_is_read_by_its_uri_with_each_files_digest(side_loads):
    """D99: a landing no local path reaches -- the dirty landing, read through LAKE_URI -- is
    listed, read and recorded by its URIs, and the application records each file's SHA-256 as
    it reads it (a CSV file's from the bytes it parsed, a Parquet file's on an executor), for
    the serving copy, which cannot hash it."""
    plans, local = side_loads["lake"]
    for dataset, plan in plans.items():
        files = sorted(p.name for p in (local / dataset).iterdir())
        assert {Path(f).suffix for f in files} <= {".csv", ".parquet"}
        assert sorted(plan.fingerprints) == [f"{LAKE_URI}/{dataset}/{f}" for f in files]
        digests = {f: digest for f, _, _, _, digest in plan.stats}
        assert digests == {f"{LAKE_URI}/{dataset}/{f}": _sha(local / dataset / f) for f in files}
    assert any(f.endswith(".csv") for p in plans.values() for f in p.fingerprints)
    assert any(f.endswith(".parquet") for p in plans.values() for f in p.fingerprints)


def test_a_next_days_orders_file_is_appended_alone_on_the_cluster(side_loads, rulebook_run):
    """D16 on Spark: with the rulebook's orders loaded, a new file in the orders folder is an
    append -- the application reads that file alone, its rows get the row ids after every row
    read before (as many as DuckDB's load read from the rulebook's orders files), and
    raw.orders holds the old rows and the two new ones (the dataset's last full load stays the
    rulebook's)."""
    append = side_loads["append"]
    plan, result = append["plan"], append["result"]
    assert append["error"] is None and result.mode == "append"
    assert [Path(f).name for f, *_ in plan.spec["files"]] == [NEXT_DAY]
    assert [(Path(f).name, n, bad) for f, n, bad, *_ in plan.stats] == [(NEXT_DAY, 2, 0)]
    ((read_before,),) = query(
        rulebook_run["warehouse"],
        "select sum(rows_read) from raw.load_files where dataset = 'orders'",
    )
    assert plan.spec["row_id_start"] == read_before
    rows, high, distinct = append["before"]["orders"]
    assert high < read_before
    assert append["after"]["new_rows"] == [("o1", read_before), ("o2", read_before + 1)]
    assert append["after"]["orders"] == (rows + 2, read_before + 1, distinct + 2)
    mode, files, last_full = append["before"]["log"]
    assert mode == "full"
    assert append["after"]["log"] == ("append", files + 1, last_full)
    # raw.orders: the view over both loads' tables (D95)
    loads = (last_full, result.load_id)
    assert append["after"]["tables"] == sorted(
        ["orders", "orders_quarantine"]
        + [f"{table}__load_{load}" for table in ("orders", "orders_quarantine") for load in loads]
    )


def test_parquet_footers_read_here_give_the_types_spark_infers(spark, tmp_path):
    """The loader's application reads local Parquet footers itself (one Spark job per file
    otherwise): for every column type a landing file may carry, the type it derives is the one
    Spark's own schema inference gives (asked through the Thrift server)."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from orchestration.defs.landing.spark_app import local_parquet_types
    from orchestration.spark.thrift import thrift_connection

    instant = dt.datetime(2025, 11, 22, 10, 0, tzinfo=dt.UTC)
    columns = {
        "an_int8": pa.array([1], pa.int8()),
        "an_int16": pa.array([1], pa.int16()),
        "an_int32": pa.array([1], pa.int32()),
        "an_int64": pa.array([1], pa.int64()),
        "a_uint8": pa.array([1], pa.uint8()),
        "a_uint32": pa.array([1], pa.uint32()),
        "a_uint64": pa.array([1], pa.uint64()),
        "money": pa.array([Decimal("10.00")], pa.decimal128(18, 2)),
        "wide": pa.array([Decimal("10.000")], pa.decimal128(38, 3)),
        "a_float": pa.array([1.5], pa.float32()),
        "a_double": pa.array([1.5], pa.float64()),
        "text": pa.array(["x"]),
        "raw_bytes": pa.array([b"x"]),
        "flag": pa.array([True]),
        "day": pa.array([dt.date(2025, 11, 22)]),
        "at_utc_us": pa.array([instant], pa.timestamp("us", tz="UTC")),
        "at_utc_ms": pa.array([instant], pa.timestamp("ms", tz="UTC")),
        "local_us": pa.array([instant.replace(tzinfo=None)], pa.timestamp("us")),
    }
    path = tmp_path / "types.parquet"
    pq.write_table(pa.table(columns), path)
    endpoint = spark["endpoint"]
    with thrift_connection(endpoint.host, endpoint.port) as sql:
        inferred = {
            name: kind
            for name, kind, *_ in sql.query(f"describe select * from parquet.`{path.as_uri()}`")
        }
    assert local_parquet_types(path.as_uri()) == inferred
    assert inferred["at_utc_us"] == "timestamp" and inferred["local_us"] == "timestamp_ntz"
    assert local_parquet_types((tmp_path / "none.parquet").as_uri()) is None  # Spark says why


def test_dirty_generated_landing_quarantines_as_on_duckdb(side_loads):
    """`rewards generate --dirty`: every defect the loader quarantines (the contract's reasons,
    R12) counted under its reason as the generator's manifest says, which DuckDB's run matches
    (test_generated_end_to_end.py). The reasons the models give (R2's version conflicts, R4's
    videos) are the dbt build's, checked on Spark with the rulebook's cases above."""
    by_reason: Counter = Counter()
    for name, reasons in side_loads["quarantined"].items():
        if name.startswith("dirty/"):
            by_reason.update(reasons)
    manifest = side_loads["manifest"]["expected_quarantine"]
    expected = {reason: n for reason, n in manifest.items() if reason in set(all_reasons())}
    assert len(expected) >= 10
    assert dict(by_reason) == expected


APP = """
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
conf = spark.sparkContext.getConf()
catalog = spark.conf.get("spark.sql.catalogImplementation")
options = conf.get("spark.driver.extraJavaOptions")
jit = "client JIT" if "-XX:TieredStopAtLevel=1" in options else "?"
zone = conf.get("spark.driver.defaultJavaOptions")
raise SystemExit(f"the application refuses: {catalog}, {jit}, {zone}")
"""


def test_a_failed_application_is_one_line_with_what_it_said(spark_cluster_starting, tmp_path):
    """submit.py's failure: one line with the end of the application's own log (here: it ran
    without the Hive metastore, which only the Thrift server opens, D80). Submitted as to an
    existing cluster with its configuration folder (D94): the folder's JVM options (the local
    cluster's client JIT) and R1's time zone before them. A successful application on the
    workers, with this venv's Python on the executors, is the loader's (every test above reads
    what it wrote)."""
    from orchestration.spark.cluster import ClusterError, ThriftEndpoint
    from orchestration.spark.submit import submit

    cluster = spark_cluster_starting.cluster()
    existing = ThriftEndpoint(
        cluster.thrift_host,
        cluster.thrift_port,
        cluster.master_url,
        cluster.timezone,
        conf_dir=cluster.conf_dir,
    )
    script = tmp_path / "app.py"
    script.write_text(APP)
    with pytest.raises(ClusterError) as failed:
        submit(existing, script, log=tmp_path / "app.log")
    message = str(failed.value)
    assert "\n" not in message and "app.py failed on Spark (exit 1)" in message
    zone = f"-Duser.timezone={rule_var_defaults()['timezone']}"
    assert f"the application refuses: in-memory, client JIT, {zone}" in message


def test_stopping_the_cluster_leaves_no_jvm(spark_cluster_starting, spark):
    # after the build (executors started); keep this the last test that uses the cluster
    cluster = spark_cluster_starting.cluster()
    records = cluster.records
    assert [r.role for r in records] == ["master", "worker-1", "worker-2", "thrift-server"]
    assert all(r.cmdline[0].endswith("java") for r in records)  # the JVMs' own command lines
    executors = [
        c
        for r in records
        for c in psutil.Process(r.pid).children(recursive=True)
        if "CoarseGrainedExecutorBackend" in " ".join(cmdline_of(c))
    ]
    # the Thrift server's, one per worker: separate JVMs (plus, for a moment, the ended
    # application's, which its worker is stopping)
    assert {e.ppid() for e in executors} >= {records[1].pid, records[2].pid}
    # sized by the setting (REWARDS_SPARK_EXECUTOR_MEMORY, D97): the Thrift server's executors
    # have its heap, and each worker offers it beside a submitted application's executor
    sized = [e for e in executors if f"-xmx{EXECUTOR_MIB}m" in " ".join(cmdline_of(e)).lower()]
    assert {e.ppid() for e in sized} == {records[1].pid, records[2].pid}
    assert all(
        r.cmdline[r.cmdline.index("--memory") + 1] == f"{EXECUTOR_MIB + 512}m" for r in records[1:3]
    )
    marker = str(cluster.spark_dir)
    assert len(our_jvms(marker)) >= 6
    spark_cluster_starting.stop()
    assert not any(psutil.pid_exists(r.pid) for r in records)
    assert not any(alive(e) for e in executors)
    assert our_jvms(marker) == []
    java_children = [
        c for c in psutil.Process().children(recursive=True) if "java" in c.name().lower()
    ]
    assert java_children == []
    assert not cluster.pid_file.exists()
