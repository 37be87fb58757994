"""`rewards`: generate demo landing data, run the warehouse, export the reward table."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from .settings import LANDING_ENV, WAREHOUSE_ENV, Settings


class UserError(click.ClickException):
    """A mistake in the user's input: one line on stderr, exit code 2, no traceback."""

    exit_code = 2


def landing_option(command):
    return click.option(
        "--landing",
        type=click.Path(path_type=Path),
        help=f"Landing directory (default ${LANDING_ENV} or data/landing).",
    )(command)


def warehouse_option(
    help: str = f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb).",
):
    return click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), help=help)


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
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing directory to write (one folder per dataset).",
)
@click.option(
    "--orders",
    "n_orders",
    default=100_000,
    show_default=True,
    type=click.IntRange(1),
    help="Number of orders (each has one or more change-log rows).",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@click.option("--dirty", is_flag=True, help="Also write rows breaking every contract rule.")
def generate(out_dir: Path, n_orders: int, seed: int, dirty: bool) -> None:
    """Write realistic synthetic landing data in the data contract's format."""
    from generator import generate_landing

    started = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        print(f"\r{stage:<10} [{bar}] {done:,}/{total:,}", end=end, file=sys.stderr, flush=True)

    stats = generate_landing(out_dir, n_orders=n_orders, seed=seed, dirty=dirty, progress=progress)
    rows = stats.get("rows", {})
    click.echo(
        f"wrote {out_dir} in {time.monotonic() - started:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )


@main.command()
@landing_option
@warehouse_option()
@click.option(
    "--var",
    "var_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a rule parameter (dbt var) for this run; repeatable.",
)
def run(landing: Path | None, warehouse: Path | None, var_pairs: tuple[str, ...]) -> None:
    """Materialize the whole Dagster asset graph in-process and print a summary."""
    _run_and_report(landing, warehouse, var_pairs, command="run")


def _run_and_report(
    landing: Path | None, warehouse: Path | None, var_pairs: tuple[str, ...], command: str
) -> None:
    from .defs.landing.loader import check_landing
    from .rule_vars import resolve_rule_vars

    settings = Settings.from_env(landing_dir=landing, warehouse=warehouse)
    overrides = _parse_vars(var_pairs)
    try:  # the user's mistakes first, before Dagster and dbt are imported (seconds)
        rule_vars = resolve_rule_vars(overrides)
        check_landing(settings.landing_dir)
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    from .runner import RunFailed, run_pipeline

    try:
        summary = run_pipeline(settings, rule_vars, command=command)
    except RunFailed as exc:
        raise click.ClickException(str(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    click.echo("\n".join(summary.lines()))


@main.command()
@click.option(
    "--orders",
    "n_orders",
    default=200_000,
    show_default=True,
    type=click.IntRange(1),
    help="Number of demo orders to generate.",
)
@click.pass_context
def demo(ctx: click.Context, n_orders: int) -> None:
    """Generate demo landing data (if the landing directory is empty) and run everything."""
    landing = Settings.from_env().landing_dir
    if not (landing / "orders").is_dir():
        ctx.invoke(generate, out_dir=landing, n_orders=n_orders, seed=7, dirty=True)
    else:
        click.echo(f"using the existing landing data in {landing}")
    _run_and_report(landing, warehouse=None, var_pairs=(), command="demo")


@main.command(context_settings={"ignore_unknown_options": True})
@landing_option
@warehouse_option()
@click.argument("dagster_dev_args", nargs=-1, type=click.UNPROCESSED)
def ui(landing: Path | None, warehouse: Path | None, dagster_dev_args: tuple[str, ...]) -> None:
    """Start the Dagster UI (`dagster dev`) on the project's instance: the same run history,
    check results and schedule and sensor state as `rewards run`. Other options (e.g. -p PORT,
    -h HOST) go to `dagster dev`."""
    from .instance import prepare_dagster_home
    from .settings import DAGSTER_HOME_ENV, REPO_ROOT

    settings = Settings.from_env(landing_dir=landing, warehouse=warehouse)
    # the child's environment (this process's own is left as it is): the code location it loads
    # reads the settings from there
    env = {
        **os.environ,
        LANDING_ENV: str(settings.landing_dir),
        WAREHOUSE_ENV: str(settings.warehouse),
    }
    env[DAGSTER_HOME_ENV] = str(prepare_dagster_home(settings.dagster_home))
    click.echo(
        f"Dagster UI on the instance {settings.dagster_home} (warehouse "
        f"{settings.warehouse}, landing {settings.landing_dir})",
        err=True,
    )
    sys.stderr.flush()
    sys.stdout.flush()
    # Replace this process with `dagster dev`, run from the repository root, where
    # pyproject.toml's [tool.dagster] names the code location: Ctrl-C then reaches dagster dev
    # itself, which stops its webserver, daemon and code server cleanly.
    os.chdir(REPO_ROOT)
    os.execve(sys.executable, [sys.executable, "-m", "dagster", "dev", *dagster_dev_args], env)


WAREHOUSE_HELP = (
    f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb); "
    "the serving copy and the ledger live beside it."
)


@contextlib.contextmanager
def _user_errors():
    """Finance commands: a missing serving copy, a locked or refused ledger, bad input -> one
    line on stderr and exit 2."""
    import duckdb

    from .finance.explain import UnknownAccount
    from .finance.ledger import LedgerError
    from .finance.serving import NoServingCopy

    try:
        yield
    except (
        NoServingCopy,
        LedgerError,
        UnknownAccount,
        ValueError,
        FileNotFoundError,
        RuntimeError,
        duckdb.Error,
    ) as exc:
        raise UserError(
            str(exc).splitlines()[0] if isinstance(exc, duckdb.Error) else str(exc)
        ) from exc


@main.command()
@warehouse_option(WAREHOUSE_HELP)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .csv, .parquet or .xlsx.",
)
def export(warehouse: Path | None, out_file: Path) -> None:
    """Write the published rewards with the ledger's payout run and paid points (CSV, Parquet, or
    Excel with a summary sheet), from the serving copy: works while a run is writing."""
    from .finance.export import export_rewards

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        count, run_id = export_rewards(settings.serving_copy, settings.ledger, out_file)
    paid = "not published yet" if run_id is None else f"payout run {run_id}"
    click.echo(f"wrote {count:,} accounts to {out_file} ({paid})")


@main.command()
@click.argument("account_id")
@warehouse_option(WAREHOUSE_HELP)
def explain(account_id: str, warehouse: Path | None) -> None:
    """Print an account's whole trail: enrollment, eligibility, orders, quota, quarantine,
    formula, cap and ledger (from the serving copy)."""
    from .finance.explain import explain as explain_account
    from .finance.serving import open_serving_copy

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors(), open_serving_copy(settings.serving_copy, settings.ledger) as con:
        lines = explain_account(con, account_id)
    click.echo("\n".join(lines))


@main.command()
@warehouse_option(WAREHOUSE_HELP)
def publish(warehouse: Path | None) -> None:
    """Freeze the published rewards as a numbered payout run in the append-only ledger; later
    runs write only per-account adjustments; the same rewards twice write nothing."""
    from .finance.ledger import publish as publish_run

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        result = publish_run(settings.serving_copy, settings.ledger)
    if result.payout_run_id is None:
        click.echo(result.reason)
        return
    click.echo(
        f"payout run {result.payout_run_id}: {result.accounts_adjusted:,} accounts, "
        f"{result.points_adjusted:+,} points; paid in total {result.points_paid_total:,} "
        f"({settings.ledger})"
    )
    for entry_type, (accounts, points) in sorted(result.by_type.items()):
        click.echo(f"  {entry_type:<9} {accounts:>7,} accounts {points:>+13,} points")


@main.command()
@warehouse_option(WAREHOUSE_HELP)
def ledger(warehouse: Path | None) -> None:
    """List the payout runs of the ledger."""
    import duckdb

    from .finance.serving import retry_while_locked

    settings = Settings.from_env(warehouse=warehouse)
    if not settings.ledger.exists():
        raise UserError(f"no ledger at {settings.ledger} (`rewards publish` writes it)")
    with _user_errors():
        con = retry_while_locked(
            lambda: duckdb.connect(str(settings.ledger), read_only=True),
            f"the ledger {settings.ledger}",
        )
        with contextlib.closing(con):
            rows = con.execute(
                "select payout_run_id, published_at, accounts_adjusted, points_adjusted, "
                "points_paid_total, dagster_run_id, code_version from ledger.payout_runs "
                "order by payout_run_id"
            ).fetchall()
    click.echo(
        "run  published at               accounts  adjustment   paid total  built by "
        "Dagster run                     code"
    )
    for run_id, at, accounts, points, total, dagster_run, version in rows:
        click.echo(
            f"{run_id:>3}  {at:<25}  {accounts:>8,}  {points:>+10,}  {total:>11,}  "
            f"{dagster_run:<36}  {version}"
        )


@main.command()
@warehouse_option(WAREHOUSE_HELP)
@click.option(
    "--var",
    "var_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    required=True,
    help="A rule parameter (dbt var) to change; repeatable.",
)
@click.option(
    "--out",
    "out_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every changed account to this CSV.",
)
def simulate(warehouse: Path | None, var_pairs: tuple[str, ...], out_csv: Path | None) -> None:
    """What-if: build the models with other rule vars in a scratch file and compare the cost and
    the accounts with the published rewards; touches neither the marts nor the ledger."""
    from .finance.simulate import SimulationFailed
    from .finance.simulate import simulate as run_simulation

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        try:
            result = run_simulation(settings, _parse_vars(var_pairs), out_csv)
        except SimulationFailed as exc:  # not the user's input: exit 1, not 2
            raise click.ClickException(str(exc)) from exc
    changes = ", ".join(f"{k}={v}" for k, v in sorted(result.overrides.items()))
    click.echo(f"what if {changes} (against the published run {result.published_run})")
    if result.inputs_differ:
        files = result.inputs_differ
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        click.echo(
            f"note: the warehouse's raw tables differ from the published run's inputs in "
            f"{len(files)} landing file(s) ({shown}; a later run failed or was stopped "
            "after loading them): the changes below are the new rules on the newer "
            "data, not the new rules alone"
        )
    click.echo("                      published     simulated        change")
    for label, field in [
        ("rewarded accounts", "rewarded_accounts"),
        ("points", "points"),
        ("capped accounts", "capped_accounts"),
        ("reward base (CNY)", "reward_base"),
    ]:
        now, sim = getattr(result.now, field), getattr(result.simulated, field)
        click.echo(f"{label:<18} {now:>13,} {sim:>13,} {sim - now:>+13,}")
    click.echo(f"accounts whose reward changes: {result.changed_accounts:,}")
    for account_id, now, sim, change in result.top_changes:
        click.echo(f"  {account_id:<20} {now:>10,} -> {sim:>10,} ({change:+,})")
    if out_csv:
        click.echo(f"every changed account: {out_csv}")


@main.command()
@warehouse_option()
def docs(warehouse: Path | None) -> None:
    """Rebuild the Great Expectations Data Docs of a warehouse's checks and print the page."""
    from expectations import all_suites

    from .defs.quality.validation import build_data_docs
    from .rule_vars import rule_var_defaults

    quality_dir = Settings.from_env(warehouse=warehouse).quality_dir
    if not (quality_dir / "gx").is_dir():
        raise UserError(f"no quality results in {quality_dir} (run `rewards run` first)")
    suites = all_suites(rule_var_defaults())
    click.echo(f"data docs: {build_data_docs(quality_dir, suites)}")


@main.command()
@warehouse_option()
@click.option(
    "--spark-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Spark's folder: raw Parquet, metastore, tables, logs "
    "(default $REWARDS_SPARK_DIR or data/spark).",
)
@click.option(
    "--var",
    "var_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a rule parameter (dbt var) for this build; repeatable.",
)
def spark(warehouse: Path | None, spark_dir: Path | None, var_pairs: tuple[str, ...]) -> None:
    """Build the same dbt models on a local Apache Spark from the warehouse's raw tables
    (exported to Parquet), with every dbt test; docs/spark.md."""
    import shutil

    from .spark_target import SparkBuildFailed, build_on_spark, read_table, stop_spark
    from .warehouse_lock import WarehouseBusy

    if shutil.which("java") is None:
        raise UserError("Spark needs Java 17 (`java` is not on PATH)")
    settings = Settings.from_env(warehouse=warehouse)
    overrides = _parse_vars(var_pairs)
    try:
        exported = build_on_spark(
            settings.warehouse, spark_dir=spark_dir, var_overrides=overrides or None
        )
        rewards = read_table("marts.account_rewards")
    except (SparkBuildFailed, WarehouseBusy) as exc:  # a run holds the warehouse: exit 1
        raise click.ClickException(str(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    finally:
        stop_spark()
    click.echo(
        f"raw rows exported to Parquet: {sum(exported.values()):,}; "
        f"on Spark: {len(rewards):,} accounts, "
        f"{sum(r['reward_points'] for r in rewards):,} reward points "
        "(marts.account_rewards)"
    )
