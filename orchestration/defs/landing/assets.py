"""One Dagster asset per landing dataset: `raw/<dataset>` (and its quarantine table)."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ...contract import DATASETS, Dataset
from ...formatting import markdown_table, number, quantity
from ..resources import LandingResource, WarehouseResource
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
        kinds={"duckdb"},
    )
    def _load(
        context: AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ) -> MaterializeResult:
        folder = landing.dataset_dir(dataset.name)

        def progress(done: int, total: int, path) -> None:
            if done == total or done % 10 == 0:
                context.log.info(f"{dataset.name}: {done}/{total} files ({path.name})")

        try:
            with warehouse.connect() as con:
                result = load_dataset(
                    con, dataset, folder, progress, scratch=Path(warehouse.scratch_dir())
                )
        except LandingError as exc:
            raise Failure(description=str(exc)) from exc
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
