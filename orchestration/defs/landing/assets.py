"""One Dagster asset per landing dataset: `raw/<dataset>` (and its quarantine table)."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ...contract import DATASETS, Dataset
from ...formatting import markdown_table, number, quantity
from ..resources import EngineResource, LandingResource, WarehouseResource
from .loader import LandingError, LoadResult, load_dataset

GROUP = "landing"


def _metadata(result: LoadResult) -> dict:
    reasons = [(r, f"{n:,}") for r, n in sorted(result.by_reason.items())]
    files = markdown_table(
        ["file", "rows", "quarantined"],
        [
            (f.file.rsplit("/", 1)[-1], f"{f.rows_read:,}", f"{f.rows_quarantined:,}")
            for f in result.files[:30]
        ],
    )
    more = f"\n\n… and {len(result.files) - 30} more files" if len(result.files) > 30 else ""
    return {
        "load_mode": result.mode,
        "files": len(result.files),
        "rows_read": result.rows_read,  # by this load's files
        # the tables after this load: rows in raw.<dataset>, and in its quarantine by reason
        "dagster/row_count": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "exact_duplicates_collapsed": result.exact_duplicates_collapsed,
        **{f"quarantined/{r}": n for r, n in sorted(result.by_reason.items())},
        "quarantine_by_reason": MetadataValue.md(
            markdown_table(["reason", "rows"], reasons) if reasons else "nothing quarantined"
        ),
        "files_loaded": MetadataValue.md(files + more),
    }


def _load_into_duckdb(
    context: AssetExecutionContext,
    landing: LandingResource,
    warehouse: WarehouseResource,
    dataset: Dataset,
) -> LoadResult:
    def progress(done: int, total: int, path) -> None:
        if done == total or done % 10 == 0:
            context.log.info(f"{dataset.name}: {done}/{total} files ({path.name})")

    try:
        with warehouse.connect() as con:
            return load_dataset(
                con,
                dataset,
                landing.dataset_dir(dataset.name),
                progress,
                scratch=Path(warehouse.scratch_dir()),
            )
    except LandingError as exc:
        raise Failure(description=str(exc)) from exc


def _load_on_spark(
    context: AssetExecutionContext,
    landing: LandingResource,
    engine: EngineResource,
    dataset: Dataset,
) -> LoadResult:
    """This dataset's load on Spark: the run's first landing step loads every dataset the run
    selected with one application (D85); each step then reports its own."""
    selected = context.run.asset_selection  # empty (or None) for the whole job
    datasets = [name for name in DATASETS if not selected or AssetKey(["raw", name]) in selected]
    outcome = engine.spark_loads(Path(landing.path), datasets)[dataset.name]
    if isinstance(outcome, LandingError):
        raise Failure(description=str(outcome))
    return outcome


def build_landing_asset(dataset: Dataset) -> AssetsDefinition:
    @asset(
        name=dataset.name,
        key_prefix="raw",
        group_name=GROUP,
        description=(
            f"{dataset.description} Loads every CSV and Parquet file of "
            f"`<landing>/{dataset.name}/` into `raw.{dataset.name}`; rows that break the data "
            f"contract go to `raw.{dataset.name}_quarantine` with their reason (R12)."
        ),
        kinds={"duckdb", "spark"},
    )
    def _load(
        context: AssetExecutionContext,
        landing: LandingResource,
        warehouse: WarehouseResource,
        engine: EngineResource,
    ) -> MaterializeResult:
        if engine.on_spark:
            result = _load_on_spark(context, landing, engine, dataset)
        else:
            result = _load_into_duckdb(context, landing, warehouse, dataset)
        if result.load_id is None:
            context.log.info(f"{dataset.name}: no new or changed files, nothing loaded")
        else:
            context.log.info(
                f"{dataset.name}: {result.mode} load of {quantity(len(result.files), 'files')}, "
                f"{quantity(result.rows_read, 'rows')} read; the table holds "
                f"{quantity(result.rows_loaded, dataset.row_noun)}, "
                f"{number(result.rows_quarantined)} quarantined"
            )
        return MaterializeResult(metadata=_metadata(result))

    return _load


landing_assets = [build_landing_asset(d) for d in DATASETS.values()]
