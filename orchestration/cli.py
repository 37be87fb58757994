"""`rewards`: generate demo landing data, run the warehouse, export the reward table."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from .settings import LANDING_ENV, WAREHOUSE_ENV


class UserError(click.ClickException):
    """A mistake in the user's input: one line on stderr, exit code 2, no traceback."""

    exit_code = 2


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--var expects key=value, got {pair!r}")
        parsed[key.strip()] = value.strip()
    return parsed


@click.group()
def main() -> None:
    """Short-video commerce rewards warehouse (WeChat Shop incentive plan)."""


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Landing directory to write (one folder per dataset).")
@click.option("--orders", "n_orders", default=100_000, show_default=True, type=click.IntRange(1),
              help="Number of orders (each has one or more change-log rows).")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@click.option("--dirty", is_flag=True, help="Also write rows breaking every contract rule.")
def generate(out_dir: Path, n_orders: int, seed: int, dirty: bool) -> None:
    """Write realistic synthetic landing data in the data contract's format."""
    from .generate import generate_landing

    started = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        print(f"\r{stage:<10} [{bar}] {done:,}/{total:,}", end=end, file=sys.stderr, flush=True)

    stats = generate_landing(out_dir, n_orders=n_orders, seed=seed, dirty=dirty,
                             progress=progress)
    rows = stats.get("rows", {})
    click.echo(f"wrote {out_dir} in {time.monotonic() - started:.1f}s: "
               + ", ".join(f"{k} {v:,}" for k, v in rows.items()))


@main.command()
@click.option("--landing", type=click.Path(path_type=Path),
              help=f"Landing directory (default ${LANDING_ENV} or data/landing).")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path),
              help=f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb).")
@click.option("--var", "var_pairs", multiple=True, metavar="KEY=VALUE",
              help="Override a rule parameter (dbt var) for this run; repeatable.")
def run(landing: Path | None, warehouse: Path | None, var_pairs: tuple[str, ...]) -> None:
    """Materialize the whole Dagster asset graph in-process and print a summary."""
    if landing:
        os.environ[LANDING_ENV] = str(landing.resolve())
    if warehouse:
        os.environ[WAREHOUSE_ENV] = str(warehouse.resolve())
    from .runner import RunFailed, run_pipeline

    try:
        summary = run_pipeline(_parse_vars(var_pairs))
    except RunFailed as exc:
        raise click.ClickException(str(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    click.echo("\n".join(summary.lines()))


@main.command()
@click.option("--orders", "n_orders", default=200_000, show_default=True, type=click.IntRange(1),
              help="Number of demo orders to generate.")
@click.pass_context
def demo(ctx: click.Context, n_orders: int) -> None:
    """Generate demo landing data (if the landing directory is empty) and run everything."""
    from .settings import Settings

    landing = Settings.from_env().landing_dir
    if not (landing / "orders").is_dir():
        ctx.invoke(generate, out_dir=landing, n_orders=n_orders, seed=7, dirty=True)
    else:
        click.echo(f"using the existing landing data in {landing}")
    ctx.invoke(run, landing=landing, warehouse=None, var_pairs=())


@main.command()
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path),
              help=f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb).")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .csv or .parquet.")
def export(warehouse: Path | None, out_file: Path) -> None:
    """Write marts.account_rewards to CSV or Parquet (opens the warehouse read-only)."""
    import duckdb

    from .defs.landing.loader import lit
    from .settings import Settings

    if warehouse:
        os.environ[WAREHOUSE_ENV] = str(warehouse.resolve())
    path = Settings.from_env().warehouse
    formats = {".csv": "(format csv, header true)", ".parquet": "(format parquet)"}
    suffix = out_file.suffix.lower()
    if suffix not in formats:
        raise UserError(f"--out must end in .csv or .parquet, got {out_file.name!r}")
    if not path.exists():
        raise UserError(f"warehouse not found: {path} (run `rewards run` first)")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from exc
    with contextlib.closing(con):
        try:
            count = con.execute("select count(*) from marts.account_rewards").fetchone()[0]
        except duckdb.CatalogException as exc:
            raise UserError(f"{path} has no marts.account_rewards (run `rewards run`)") from exc
        out_file.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            "copy (select * from marts.account_rewards order by account_id) "
            f"to {lit(str(out_file))} {formats[suffix]}"
        )
    click.echo(f"wrote {count:,} accounts to {out_file}")


@main.command()
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path),
              help=f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb).")
def docs(warehouse: Path | None) -> None:
    """Rebuild the Great Expectations Data Docs of a warehouse's checks and print the page."""
    from .defs.quality.validation import build_data_docs
    from .settings import Settings

    if warehouse:
        os.environ[WAREHOUSE_ENV] = str(warehouse.resolve())
    quality_dir = Settings.from_env().quality_dir
    if not (quality_dir / "gx").is_dir():
        raise UserError(f"no quality results in {quality_dir} (run `rewards run` first)")
    click.echo(f"data docs: {build_data_docs(quality_dir)}")


@main.command()
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path),
              help=f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb).")
@click.option("--spark-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Spark's folder: raw Parquet, metastore, tables, logs "
                   "(default $REWARDS_SPARK_DIR or data/spark).")
@click.option("--var", "var_pairs", multiple=True, metavar="KEY=VALUE",
              help="Override a rule parameter (dbt var) for this build; repeatable.")
def spark(warehouse: Path | None, spark_dir: Path | None, var_pairs: tuple[str, ...]) -> None:
    """Build the same dbt models on a local Apache Spark from the warehouse's raw tables
    (exported to Parquet), with every dbt test; docs/spark.md."""
    import shutil

    from .spark_target import SparkBuildFailed, build_on_spark, read_table, stop_spark

    if shutil.which("java") is None:
        raise UserError("Spark needs Java 17 (`java` is not on PATH)")
    if warehouse:
        os.environ[WAREHOUSE_ENV] = str(warehouse.resolve())
    overrides = _parse_vars(var_pairs)
    try:
        exported = build_on_spark(spark_dir=spark_dir, var_overrides=overrides or None)
        rewards = read_table("marts.account_rewards")
    except SparkBuildFailed as exc:
        raise click.ClickException(str(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        stop_spark()
    click.echo(f"raw rows exported to Parquet: {sum(exported.values()):,}; "
               f"on Spark: {len(rewards):,} accounts, "
               f"{sum(r['reward_points'] for r in rewards):,} reward points "
               "(marts.account_rewards)")
