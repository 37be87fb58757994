"""Run one suite of `expectations/` with Great Expectations, inside DuckDB.

The guarded table is a GX SQL table asset of a datasource per schema (`warehouse_<schema>`, its
DuckDB search path set to that schema) on the warehouse, opened read-only through the buffered
DuckDB dialect (duckdb_dialect.py). GX turns each
expectation into aggregate SQL that DuckDB runs over the whole table; only counts and a few
sample rows come back to Python. Nothing is pulled into pandas.

Results are kept in the quality folder (`<warehouse>.gx/` unless REWARDS_QUALITY_DIR says
otherwise): each run's validation results, named after the Dagster run that made them, and the
Data Docs site rebuilt from them at `<quality folder>/data_docs/index.html`, which works with no
network (data_docs_offline.py). Datasources, suites and checkpoints are defined in memory by
each run.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import MetadataValue

from expectations import Check, Suite

from ...formatting import lit, markdown_table
from ..landing import bookkeeping
from ..resources import WarehouseResource
from . import duckdb_dialect, scopes
from .data_docs_offline import localize_site

DATASOURCE = "warehouse"
# where the validation results of every run are kept (the layout of a file-backed GX project)
RESULTS_DIR = Path("gx") / "uncommitted" / "validations"
DOCS_SITE = "local_site"
SAMPLE_SIZE = 5


@dataclass
class CheckOutcome:
    check: Check
    passed: bool
    unexpected: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


def data_docs_index(quality_dir: Path) -> Path:
    return quality_dir / "data_docs" / "index.html"


def preload() -> threading.Thread:
    """Import Great Expectations (~8 s of Python) in a background thread, so the import overlaps
    the raw loads (which run inside DuckDB, outside the GIL) instead of delaying the first check."""

    def _import() -> None:
        import great_expectations  # noqa: F401

    thread = threading.Thread(target=_import, name="preload-great-expectations", daemon=True)
    thread.start()
    return thread


_CONTEXTS: dict[Path, Any] = {}


def gx_literal(text: object) -> str:
    """`text` as Great Expectations keeps it literally in its context's configuration (the
    stores' folders), where it substitutes `$NAME` and `${NAME}` (an environment variable's
    value, or an error when none is set): a folder named `a$b` would lose its `$b`. `\\$` is
    GX's escape for a `$`."""
    return str(text).replace("$", "\\$")


def gx_context(quality_dir: Path):
    """The file-backed GX context of `quality_dir`, opened once per process."""
    if quality_dir not in _CONTEXTS:
        _CONTEXTS[quality_dir] = _open_context(quality_dir)
    return _CONTEXTS[quality_dir]


def _open_context(quality_dir: Path):
    """A GX context whose datasources, suites and checkpoints live in memory -- each run defines
    them afresh, and a file-backed context rewrote its YAML for each of them (~4 s of a small
    run) -- and whose validation results and Data Docs are files in the quality folder, where
    earlier runs' results are."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    quality_dir.mkdir(parents=True, exist_ok=True)
    defaults = InMemoryStoreBackendDefaults()
    stores = dict(defaults.stores)
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": gx_literal(quality_dir / RESULTS_DIR),
        },
    }
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": gx_literal(data_docs_index(quality_dir).parent),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        stores=stores,
        expectations_store_name=defaults.expectations_store_name,
        validation_results_store_name=defaults.validation_results_store_name,
        checkpoint_store_name=defaults.checkpoint_store_name,
        data_docs_sites={DOCS_SITE: site},
        analytics_enabled=False,
        # Dagster's log shows progress; GX's bars would flood the terminal
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _render_data_docs(quality_dir: Path, identifiers: list | None = None) -> Path:
    """Render the Data Docs pages of these validation results (all stored results when None)
    and the index, with the site's own copies of the scripts and styles; returns the index."""
    started = time.time_ns()
    if identifiers is not None:  # and their suites' pages, which the index links to
        suites = {
            i.expectation_suite_identifier.name: i.expectation_suite_identifier for i in identifiers
        }
        identifiers = [*identifiers, *suites.values()]
    context = gx_context(quality_dir)
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)
    index = data_docs_index(quality_dir)
    # the pages this build wrote (a filesystem's clock may lag a little behind time.time_ns)
    localize_site(index.parent, since_ns=started - 2_000_000_000)
    return index


def build_data_docs(quality_dir: Path, suites: list[Suite] = ()) -> Path:
    """Rebuild the Data Docs site from every stored validation result, with the pages of
    `suites`; returns its index."""
    context = gx_context(quality_dir)
    for suite in suites:
        context.suites.add_or_update(_gx_suite(suite, 0))
    return _render_data_docs(quality_dir)


def build_run_data_docs(quality_dir: Path, run_name: str) -> Path:
    """Render the Data Docs pages of every validation result the Dagster run `run_name` stored,
    and the index, once; returns the index. The check steps only store results: `rewards run`
    calls this after its run, the `data_docs_after_run` sensor after a run from the UI, the
    schedule or the landing sensor (data_docs_sensor.py)."""
    identifiers = run_validation_results(quality_dir, run_name)
    if identifiers:
        _render_data_docs(quality_dir, identifiers)
    return data_docs_index(quality_dir)


def run_validation_results(quality_dir: Path, run_name: str) -> list:
    """The identifiers of the validation results the Dagster run `run_name` stored."""
    stored = gx_context(quality_dir).validation_results_store.list_keys()
    return [key for key in stored if key.run_id.run_name == run_name]


def docs_page_url(quality_dir: Path, identifier) -> str:
    """The file:// address of a validation result's Data Docs page (rendered now or at the end
    of the run)."""
    (site,) = gx_context(quality_dir).get_docs_sites_urls(
        resource_identifier=identifier, site_name=DOCS_SITE, only_if_exists=False
    )
    return site["site_url"]


def _gx_suite(
    suite: Suite,
    through: int,
    files: Mapping[str, list[str]] | None = None,
    literal: Callable[[str], str] = lit,
):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = [
        ExpectationConfiguration(
            type=spec["type"],
            kwargs=_in_scope(spec["kwargs"], through, files, literal),
            meta={"check": c.name, "blocking": c.blocking, "rules": list(c.rules), "why": c.why},
        ).to_domain_obj()
        for c in suite.checks
        for spec in c.expectations
    ]
    return gx.ExpectationSuite(
        name=suite.name, expectations=expectations, meta={"stage": suite.stage, "table": suite.name}
    )


_FILES = re.compile(r"\{files:(\w+)\}")


def _in_scope(
    kwargs: dict[str, Any],
    through: int,
    files: Mapping[str, list[str]] | None = None,
    literal: Callable[[str], str] = lit,
) -> dict[str, Any]:
    """A check's SQL with `{through}` made the load through which its suite last passed and
    `{files:<dataset>}` the list of that dataset's files loaded since, as SQL literals of the
    engine (`literal`; `(null)` when there are none: no row is in scope)."""
    files = files or {}

    def listed(match: re.Match) -> str:
        names = files.get(match.group(1), [])
        return "(" + (", ".join(literal(name) for name in names) or "null") + ")"

    return {
        k: _FILES.sub(listed, v.replace("{through}", str(through))) if isinstance(v, str) else v
        for k, v in kwargs.items()
    }


def _engine_kwargs(warehouse: WarehouseResource, schema: str) -> dict[str, Any]:
    config: dict[str, Any] = {"memory_limit": warehouse.memory_limit, "threads": warehouse.threads}
    if warehouse.temp_directory:
        config["temp_directory"] = warehouse.temp_directory
    return {"connect_args": {"read_only": True, "config": config, "search_path": schema}}


# Validation results whose Data Docs pages are still to be rendered (docs built at the end of a run)


def run_suite(
    suite: Suite,
    warehouse: WarehouseResource,
    quality_dir: Path,
    run_name: str | None = None,
) -> list[CheckOutcome]:
    """Validate the suite's table; one outcome per check, in the suite's order.

    The result is stored under `run_name` (the Dagster run id), so its Data Docs page names the
    run. Its Data Docs page is rendered after the run, with the run's other pages, by
    `build_run_data_docs` (rendering costs ~0.5-1 s of Python per suite: off the run's path)."""
    if suite.engine != "duckdb":
        raise ValueError(f"suite {suite.name} is written for {suite.engine}, not DuckDB")
    through, watermark, files = 0, 0, {}
    if suite.scope:  # a big table: the rows of loads after the one it last passed (D30)
        with warehouse.connect(read_only=True) as con:
            through = scopes.checked_through(con, f"gx:{suite.name}")
            watermark = scopes.load_watermark(con)
            files = bookkeeping.files_loaded_after(con, through)
    duckdb_dialect.register()
    try:
        # GX prints (not logs) a notice for every query of a query asset, whose {batch} it has
        # already substituted; nothing else of it goes to stdout
        with contextlib.redirect_stdout(io.StringIO()):
            result = _validate(suite, warehouse, quality_dir, through, files, run_name)
    finally:
        duckdb_dialect.release()  # the next step (dbt, or a writer) takes the file
    ((identifier, validation_result),) = result.run_results.items()
    outcomes = check_outcomes(
        suite,
        validation_result.results,
        docs_page_url(quality_dir, identifier),
        f"rows of raw loads after {through}" if suite.scope else "every row",
    )
    if suite.scope and all(o.passed for o in outcomes if o.check.blocking):
        with warehouse.connect() as con:  # the next run validates only newer rows
            scopes.record_passed(con, f"gx:{suite.name}", watermark, run_name or "")
    return outcomes


def _validate(
    suite: Suite,
    warehouse: WarehouseResource,
    quality_dir: Path,
    through: int,
    files: Mapping[str, list[str]],
    run_name: str | None,
):
    """Run the suite's GX checkpoint on its table (or the rows in its scope)."""
    context = gx_context(quality_dir)
    datasource = context.data_sources.add_or_update_sql(
        name=f"{DATASOURCE}_{suite.schema}",
        connection_string=duckdb_dialect.url(warehouse.path),
        create_temp_table=False,  # the warehouse is opened read-only
        kwargs=_engine_kwargs(warehouse, suite.schema),
    )
    return run_checkpoint(context, datasource, suite, through, files, run_name)


def run_checkpoint(
    context,
    datasource,
    suite: Suite,
    through: int,
    files: Mapping[str, list[str]],
    run_name: str | None,
    literal: Callable[[str], str] = lit,
):
    """Run the suite's GX checkpoint on its table (or the rows in its scope) of `datasource`, a
    GX SQL datasource of the suite's schema, whatever the engine behind it; GX's result."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    if suite.table in datasource.get_asset_names():
        datasource.delete_asset(suite.table)
    if suite.scope:
        asset = datasource.add_query_asset(
            name=suite.table,
            query=f"select * from {suite.schema}.{suite.table} "
            f"where {_in_scope({'q': suite.scope}, through, files, literal)['q']}",
        )
    else:
        # a table asset: GX reflects a query asset's columns by running the query
        asset = datasource.add_table_asset(name=suite.table, table_name=suite.table)
    batch = asset.add_batch_definition_whole_table("whole_table")
    gx_suite = context.suites.add_or_update(_gx_suite(suite, through, files, literal))
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[validation],
            actions=[],  # the Data Docs page is rendered below, or at the end of the run
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
        )
    )
    result = checkpoint.run(run_id=RunIdentifier(run_name=run_name))
    return result


def _unexpected(er) -> int:
    res = er.result or {}
    if "unexpected_count" in res:
        return int(res["unexpected_count"] or 0)
    if er.expectation_config.type == "unexpected_rows_expectation":
        return int(res.get("observed_value") or 0)
    return 0 if er.success else 1


def _samples(er) -> str:
    res = er.result or {}
    if er.exception_info and er.exception_info.get("raised_exception"):
        return "error: " + str(er.exception_info.get("exception_message", ""))[:300]
    rows = (res.get("details") or {}).get("unexpected_rows")
    if rows:
        return "; ".join(str(_plain(r)) for r in list(rows)[:SAMPLE_SIZE])
    values = res.get("partial_unexpected_list")
    if values:
        return ", ".join(str(v) for v in values[:SAMPLE_SIZE])
    if "observed_value" in res and not er.success:
        return f"observed {res['observed_value']}"
    return ""


def _plain(row: Any) -> Any:
    return {k: str(v) for k, v in row.items()} if isinstance(row, dict) else row


def _describe(er) -> str:
    config = er.expectation_config
    kwargs = {
        k: v
        for k, v in config.kwargs.items()
        if k not in ("batch_id", "unexpected_rows_query", "description") and v is not None
    }
    label = config.kwargs.get("description") or ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{config.type}({label})"


def check_outcomes(suite: Suite, results, docs_page: str, scope: str) -> list[CheckOutcome]:
    by_check: dict[str, list] = {c.name: [] for c in suite.checks}
    for er in results:
        by_check[er.expectation_config.meta["check"]].append(er)
    outcomes = []
    for c in suite.checks:
        ers = by_check[c.name]
        # an expectation GX could not evaluate is a failure, never a silent pass
        passed = bool(ers) and all(er.success for er in ers)
        rows = [
            (
                _describe(er),
                "pass" if er.success else "FAIL",
                f"{_unexpected(er):,}",
                _samples(er).replace("|", "/"),
            )
            for er in ers
        ]
        unexpected = sum(_unexpected(er) for er in ers if not er.success)
        outcomes.append(
            CheckOutcome(
                c,
                passed,
                unexpected,
                {
                    "suite": suite.name,
                    "rows_validated": scope,
                    "severity": "blocking (ERROR)" if c.blocking else "warn",
                    "rules": ", ".join(c.rules),
                    "why": c.why,
                    "unexpected": unexpected,
                    "expectations": markdown_table(
                        ["expectation", "result", "unexpected", "samples"], rows
                    ),
                    # the suite's page in the Data Docs, for this run
                    "data_docs": MetadataValue.url(docs_page),
                },
            )
        )
    return outcomes
