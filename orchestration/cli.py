"""`rewards`: generate demo landing data, run the warehouse, export the reward table."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from .formatting import number, quantity
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


class _Commands(click.Group):
    """The commands, each with a setting it cannot use (a bad REWARDS_ENGINE, a Thrift address
    without a port) said in one line, exit 2."""

    def invoke(self, ctx: click.Context):
        from .settings import SettingError

        try:
            return super().invoke(ctx)
        except SettingError as exc:
            raise UserError(str(exc)) from exc


@click.group(cls=_Commands)
def main() -> None:
    """Short-video commerce rewards warehouse (WeChat Shop incentive plan)."""


class StageBars(contextlib.ExitStack):
    """The generator's progress, one click progress bar per stage on stderr: redrawn in place
    on a terminal; written once per stage (its label) when stderr is a file or a pipe."""

    def __init__(self) -> None:
        super().__init__()
        self.stage: str | None = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()  # the previous stage's bar ends
            self.stage = stage
            self.bar = self.enter_context(
                click.progressbar(length=max(total, 1), label=f"{stage:<10}", file=sys.stderr)
            )
        self.bar.update(done - self.bar.pos)


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
    with StageBars() as progress:
        stats = generate_landing(
            out_dir, n_orders=n_orders, seed=seed, dirty=dirty, progress=progress
        )
    click.echo(
        f"wrote {out_dir} in {time.monotonic() - started:.1f}s: "
        + ", ".join(_generated_counts(stats))
        + (f"; --dirty's rows included ({out_dir / '_manifest.json'})" if dirty else "")
    )


def _generated_counts(manifest: dict) -> list[str]:
    """Rows per dataset, and orders as orders: `--orders N` orders, written as more change-log
    rows (R2)."""
    from .contract import DATASETS

    counts = []
    for dataset, rows in manifest["rows"].items():
        noun = DATASETS[dataset].row_noun
        if dataset == "orders":
            counts.append(f"orders {number(manifest['n_orders'])} ({quantity(rows, noun)})")
        else:
            counts.append(f"{dataset} {quantity(rows, noun)}")
    return counts


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
    from .run_folders import FolderNotWritable, check_writable

    settings = Settings.from_env(landing_dir=landing, warehouse=warehouse)
    overrides = _parse_vars(var_pairs)
    try:  # the user's mistakes first, before Dagster and dbt are imported (seconds)
        rule_vars = resolve_rule_vars(overrides)
        if not settings.landing_elsewhere:
            check_landing(settings.landing_dir)
        check_writable(settings)
    except (ValueError, FileNotFoundError, FolderNotWritable) as exc:
        raise UserError(str(exc)) from exc
    try:
        summary = _run(settings, rule_vars, command)
    except KeyboardInterrupt as exc:  # before the run held the warehouse: it published nothing
        raise Interrupted(_interrupted_message(settings, None, published=False)) from exc
    click.echo("\n".join(summary.lines()))


def _run(settings: Settings, rule_vars, command: str):
    """run_pipeline, its failures as one line: the run's own (exit 1), the user's (exit 2),
    Ctrl-C (exit 130)."""
    from .disk_space import disk_full_message, fullest_folder, says_disk_full
    from .runner import RunFailed, RunInterrupted, run_pipeline
    from .warehouse_lock import WarehouseBusy

    def disk_full(exc: BaseException | str) -> bool:
        return says_disk_full(exc, fullest_folder(settings)[1])

    try:
        return run_pipeline(settings, rule_vars, command=command)
    except RunInterrupted as exc:
        raise Interrupted(_interrupted_message(settings, exc.run_id, exc.published)) from exc
    except RunFailed as exc:
        if disk_full(str(exc)):
            raise click.ClickException(f"{disk_full_message(settings)} ({exc})") from exc
        raise click.ClickException(str(exc)) from exc
    except WarehouseBusy as exc:  # waited RUN_WAIT_SECONDS for another process
        raise click.ClickException(str(exc)) from exc
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    except Exception as exc:  # a full disk stops whichever library writes next (disk_space.py)
        if disk_full(exc):
            raise click.ClickException(disk_full_message(settings)) from exc
        raise


class Interrupted(click.ClickException):
    """Ctrl-C during a run: one line saying what became of finance's serving copy, exit 130
    (128 + SIGINT, as a shell reports it)."""

    exit_code = 130


def _interrupted_message(settings: Settings, run_id: str | None, published: bool) -> str:
    run = f"run {run_id}" if run_id else "run"
    if not published:
        return f"{run} interrupted; nothing was published (finance's serving copy is as it was)"
    return (
        f"{run} interrupted after it published finance's serving copy "
        f"{settings.serving_copy}: finance reads this run's rewards; its summary was not printed"
    )


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
@click.argument("dg_dev_args", nargs=-1, type=click.UNPROCESSED)
def ui(landing: Path | None, warehouse: Path | None, dg_dev_args: tuple[str, ...]) -> None:
    """Start the Dagster UI (`dg dev`) on the project's instance: the same run history,
    check results and schedule and sensor state as `rewards run`. Other options (e.g. -p PORT,
    -h HOST) go to `dg dev`. SIGTERM or Ctrl-C stops it and every process it started within
    10 s."""
    from .instance import prepare_dagster_home
    from .run_folders import FolderNotWritable, check_writable
    from .settings import DAGSTER_HOME_ENV, REPO_ROOT
    from .ui_process import run_dg_dev

    settings = Settings.from_env(landing_dir=landing, warehouse=warehouse)
    try:  # the UI's runs write where `rewards run` writes
        check_writable(settings)
        home = prepare_dagster_home(settings.dagster_home)
    except (ValueError, FolderNotWritable) as exc:
        raise UserError(str(exc)) from exc
    # the child's environment (this process's own is left as it is): the code location it loads
    # reads the settings from there
    env = {
        **os.environ,
        LANDING_ENV: str(settings.landing_dir),
        WAREHOUSE_ENV: str(settings.warehouse),
        DAGSTER_HOME_ENV: str(home),
        # the virtual environment is this one (as `uv run` or an activated venv would say), so
        # dg loads the code with this interpreter
        "VIRTUAL_ENV": sys.prefix,
    }
    click.echo(
        f"Dagster UI on the instance {settings.dagster_home} (warehouse "
        f"{settings.warehouse}, landing {settings.landing_dir})",
        err=True,
    )
    # `dg dev` runs from the repository root, where pyproject.toml's [tool.dg.project] names the
    # code location; this process stays, to stop it and all its processes (ui_process.py, D58)
    dg = str(Path(sys.executable).parent / "dg")
    code = run_dg_dev(
        [dg, "dev", *dg_dev_args], env, REPO_ROOT, lambda line: click.echo(line, err=True)
    )
    sys.exit(code)


WAREHOUSE_HELP = (
    f"DuckDB warehouse file (default ${WAREHOUSE_ENV} or data/warehouse.duckdb); "
    "the serving copy and the ledger live beside it."
)


@contextlib.contextmanager
def _user_errors():
    """Finance commands: a missing serving copy, a locked or refused ledger, bad input -> one
    line on stderr and exit 2; an output that cannot be written -> one line, exit 2 when another
    --out is the fix, else 1 (D64)."""
    import duckdb

    from .finance.explain import UnknownAccount
    from .finance.ledger import LedgerError
    from .finance.serving import NoServingCopy
    from .finance.writing import CannotWrite

    try:
        yield
    except CannotWrite as exc:
        raise (UserError if exc.users_input else click.ClickException)(str(exc)) from exc
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


def by_option(required: bool, help: str):
    return click.option("--by", "by", required=required, metavar="NAME", help=help)


@main.command()
@warehouse_option(WAREHOUSE_HELP)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .csv, .parquet or .xlsx.",
)
@click.option(
    "--payout-run",
    "payout_run",
    type=click.IntRange(1),
    metavar="N",
    help="Write exactly what payout run N paid and the rewards it was computed from (from the "
    "ledger alone), instead of the rewards now.",
)
@click.option(
    "--payment-file",
    "payment_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.csv",
    help="With --payout-run N (approved): one row per line the run pays, with an idempotency "
    "key, for the crediting system; its control totals and SHA-256 go in FILE.csv.control.json.",
)
def export(
    warehouse: Path | None,
    out_file: Path | None,
    payout_run: int | None,
    payment_file: Path | None,
) -> None:
    """Write the published rewards with what the approved payout runs paid (CSV, Parquet, or an
    Excel workbook), from the serving copy: works while a run is writing. With --payout-run N,
    what run N paid, as of that run; with --payment-file, its lines for crediting."""
    from .finance.export import export_payout_run, export_rewards, run_description_file

    if out_file is None and payment_file is None:
        raise UserError("export needs --out FILE (or --payout-run N --payment-file FILE.csv)")
    if payment_file is not None and payout_run is None:
        raise UserError("--payment-file needs --payout-run N: the approved run whose lines to pay")
    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        if payment_file is not None:
            from .finance.payment_file import write_payment_file

            paid = write_payment_file(settings.ledger, payout_run, payment_file)
            click.echo(
                f"wrote {quantity(paid.rows, 'lines')} of payout run {payout_run} to "
                f"{payment_file}: "
                f"{paid.points:+,} points ({paid.credited:+,} credited, {paid.debited:+,} "
                f"debited); control totals and SHA-256 in {paid.control}"
            )
            if out_file is None:
                return
        if payout_run is not None:
            count, state, note = export_payout_run(settings.ledger, payout_run, out_file)
            click.echo(
                f"wrote {quantity(count, 'accounts')} to {out_file} (payout run {payout_run}, "
                f"{state})"
            )
            if out_file.suffix.lower() == ".csv":
                click.echo(
                    f"  its state, rule vars and input files: {run_description_file(out_file)}"
                )
            if note:
                click.echo(f"note: {note}")
            return
        count, run_id = export_rewards(settings.serving_copy, settings.ledger, out_file)
    paid = "nothing approved yet" if run_id is None else f"paid through payout run {run_id}"
    click.echo(f"wrote {quantity(count, 'accounts')} to {out_file} ({paid})")


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
@by_option(
    False,
    "Who publishes (default: the OS user name). A declaration, recorded with "
    "the OS user and host; the approver must be someone else.",
)
def publish(warehouse: Path | None, by: str | None) -> None:
    """Freeze the published rewards, and the adjustments waiting, as a numbered payout run in
    the append-only ledger, pending approval; later runs write only per-account differences
    from what the approved runs paid; the same rewards twice write nothing."""
    from .finance.ledger import Actor
    from .finance.ledger import publish as publish_run

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        result = publish_run(settings.serving_copy, settings.ledger, actor)
    if result.payout_run_id is None:
        click.echo(result.reason)
        return
    click.echo(
        f"payout run {result.payout_run_id} published by {actor.name}, pending approval: "
        f"{quantity(result.accounts_adjusted, 'accounts')}, "
        f"{quantity(result.points_adjusted, 'points', signed=True)}; paid in total once "
        f"approved {number(result.points_paid_total)} ({settings.ledger})"
    )
    for entry_type, (lines, points) in sorted(result.by_type.items()):
        click.echo(
            f"  {entry_type:<10} {quantity(lines, 'lines'):>13} "
            f"{quantity(points, 'points', signed=True):>20}"
        )
    click.echo(
        f"  next: `rewards approve {result.payout_run_id} --by NAME` (someone else), or "
        f"`rewards reject {result.payout_run_id} --by NAME --reason TEXT`"
    )


@main.command()
@click.argument("run_id", metavar="RUN", type=click.IntRange(1))
@warehouse_option(WAREHOUSE_HELP)
@by_option(True, "Who approves: not the publisher, nor anyone whose adjustment the run carries.")
def approve(run_id: int, warehouse: Path | None, by: str) -> None:
    """Approve a pending payout run: from now on it counts as paid."""
    from .finance.ledger import Actor
    from .finance.ledger import approve as approve_run

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        decision = approve_run(settings.ledger, run_id, actor)
    click.echo(
        f"payout run {run_id} approved by {actor.name} (published by {decision.published_by}): "
        f"{quantity(decision.points, 'points', signed=True)}; paid in total "
        f"{number(decision.paid_total)}"
    )


@main.command()
@click.argument("run_id", metavar="RUN", type=click.IntRange(1))
@warehouse_option(WAREHOUSE_HELP)
@by_option(True, "Who rejects.")
@click.option("--reason", required=True, help="Why: kept in the ledger (`rewards ledger`).")
def reject(run_id: int, warehouse: Path | None, by: str, reason: str) -> None:
    """Reject a pending payout run: it pays nothing, nor do the adjustments it carries; the next
    publish starts again from the last approved state."""
    from .finance.ledger import Actor
    from .finance.ledger import reject as reject_run

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        decision = reject_run(settings.ledger, run_id, actor, reason)
    click.echo(
        f"payout run {run_id} rejected by {actor.name}: its "
        f"{quantity(decision.points, 'points', signed=True)} are not paid; paid in total "
        f"{number(decision.paid_total)}"
    )


@main.command()
@click.argument("account_id")
@warehouse_option(WAREHOUSE_HELP)
@click.option("--points", required=True, type=int, help="Signed points: +N pays more, -N less.")
@click.option("--reason", required=True, help="Why (the payee reads it on the statement).")
@by_option(True, "Who asks for it (the run's approver must be someone else).")
@click.option("--ref", "reference", metavar="TICKET", help="The dispute or ticket reference.")
def adjust(
    account_id: str,
    warehouse: Path | None,
    points: int,
    reason: str,
    by: str,
    reference: str | None,
) -> None:
    """Record a manual adjustment of an account's points (a dispute's outcome, goodwill); the
    next payout run carries it and is approved or rejected with it."""
    from .finance.ledger import Actor
    from .finance.ledger import adjust as record_adjustment

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        done = record_adjustment(
            settings.serving_copy, settings.ledger, account_id, points, reason, actor, reference
        )
    click.echo(
        f"adjustment {done.adjustment_id}: {account_id} "
        f"{quantity(points, 'points', signed=True)}, recorded by {actor.name}; the next payout "
        f"run carries it (reward {number(done.reward_points)}; with its adjustments "
        f"{number(done.adjusted_total)})"
    )
    if done.waits_for:
        click.echo(f"note: {done.waits_for}")


@main.group(invoke_without_command=True)
@warehouse_option(WAREHOUSE_HELP)
@click.pass_context
def ledger(ctx: click.Context, warehouse: Path | None) -> None:
    """List the payout runs: state, who published and who decided, points and paid total, the
    ledger's identity and its anchor. `rewards ledger init --by NAME` starts the ledger."""
    ctx.obj = warehouse
    if ctx.invoked_subcommand is not None:
        return
    from .finance.ledger.report import ledger_lines

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        lines = ledger_lines(settings.ledger, settings.serving_copy)
    click.echo("\n".join(lines))


@ledger.command("init")
@warehouse_option(WAREHOUSE_HELP)
@by_option(True, "Who starts the ledger (recorded with the OS user and host).")
@click.pass_obj
def ledger_init(group_warehouse: Path | None, warehouse: Path | None, by: str) -> None:
    """Start this warehouse's payout ledger, once: refused where the warehouse already has one
    (its anchor records it, even if the file is gone). The first publish is payout run 1."""
    from .finance.ledger import Actor
    from .finance.ledger.start import start_ledger

    settings = Settings.from_env(warehouse=warehouse or group_warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        started = start_ledger(settings.ledger, actor)
    click.echo(
        f"ledger {settings.ledger} started by {actor.name} at {started.started_at} (identity "
        f"{started.ledger_id[:16]}…; its anchor: {started.anchor}); the first publish will be "
        "payout run 1"
    )


@main.command()
@click.argument("month", metavar="YYYY-MM")
@warehouse_option(WAREHOUSE_HELP)
@by_option(True, "Who closes the month (recorded with the OS user and host).")
def close(month: str, warehouse: Path | None, by: str) -> None:
    """Book the month-end close: append to the ledger the accrual's figures for the month's last
    day (points to date, the projection) from the serving copy, once per month; later readers
    show today's figure for the same day and the difference as the next month's true-up."""
    from .finance.ledger import Actor
    from .finance.ledger.close import close_month

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        actor = Actor.declared(by)
        closed = close_month(settings.serving_copy, settings.ledger, month, actor)
    as_of = (
        f"the accrual of {closed.accrual_date} (its latest day on or before {closed.month_end})"
        if closed.accrual_date
        else f"no counted order by {closed.month_end}"
    )
    click.echo(
        f"{closed.month} closed by {actor.name}: {closed.points_to_date:,} points to date, "
        f"{closed.projected_points:,} projected for the window, from {as_of}; booked in the "
        f"ledger ({settings.ledger})"
    )


@main.command()
@warehouse_option(WAREHOUSE_HELP)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the statements and index.html into.",
)
@click.option("--account", "account_id", help="Only this account's statement (and the index).")
def statements(warehouse: Path | None, out_dir: Path, account_id: str | None) -> None:
    """Write one self-contained HTML statement per enrolled account, in Chinese and English,
    plus index.html with the programme's totals and its accrual chart (from the serving copy
    and the ledger: works while a run is writing)."""
    from .finance.statements import write_statements

    settings = Settings.from_env(warehouse=warehouse)
    with _user_errors():
        written = write_statements(
            settings.serving_copy, settings.ledger, out_dir, account_id=account_id
        )
    click.echo(
        f"wrote {quantity(written.statements, 'statements')} to {out_dir} in "
        f"{written.seconds:.1f}s; "
        f"index: {written.index}"
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
            f"{quantity(len(files), 'landing files')} ({shown}; a later run failed or was stopped "
            "after loading them): the changes below are the new rules on the newer "
            "data, not the new rules alone"
        )
    # program_summary's figures, as published and as simulated (D61)
    width = max(len(now.label) for now, _ in result.figures)
    click.echo(f"{'':<{width}} {'published':>18} {'simulated':>18} {'change':>18}")
    for now, sim in result.figures:
        change = quantity(sim.value - now.value, now.unit, signed=True)
        click.echo(
            f"{now.label:<{width}} {quantity(now.value, now.unit):>18} "
            f"{quantity(sim.value, sim.unit):>18} {change:>18}"
        )
    click.echo(f"accounts whose reward changes: {number(result.changed_accounts)}")
    for account_id, now, sim, change in result.top_changes:
        click.echo(
            f"  {account_id:<20} {number(now):>10} -> {number(sim):>10} "
            f"({quantity(change, 'points', signed=True)})"
        )
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
@click.option(
    "--landing",
    metavar="DIR|URI",
    help="The landing folder: a local folder, or any path the cluster reads (hdfs://, s3a://, "
    "file://) (default $REWARDS_LANDING_URI, else $REWARDS_LANDING_DIR or data/landing).",
)
@click.option(
    "--spark-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Spark's folder: the raw tables' Parquet (unless $REWARDS_SPARK_RAW_URI), the local "
    "cluster's metastore, tables and logs (default $REWARDS_SPARK_DIR or data/spark).",
)
@click.option(
    "--thrift",
    metavar="HOST:PORT",
    help="Build on this Spark Thrift server instead of starting a local cluster "
    "(default $REWARDS_SPARK_THRIFT; applications go to $REWARDS_SPARK_MASTER).",
)
@click.option(
    "--var",
    "var_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a rule parameter (dbt var) for this build; repeatable.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write marts.account_rewards to this file (.parquet or .csv).",
)
def spark(
    landing: str | None,
    spark_dir: Path | None,
    thrift: str | None,
    var_pairs: tuple[str, ...],
    out_file: Path | None,
) -> None:
    """Load the landing files and build every model on Apache Spark, with the data contract and
    its quarantine (R12) and every dbt test: on a local standalone cluster started and stopped
    for it, or on the given Thrift server; no DuckDB on the way. docs/spark.md."""
    import shutil

    from .contract import DATASETS
    from .defs.landing.files import LandingError
    from .defs.landing.loader import check_landing
    from .settings import SparkSettings
    from .spark.build import SparkBuildFailed
    from .spark.cluster import ClusterError
    from .spark.landing import build_from_landing

    # a malformed setting is one line, exit 2 (the command group, _Commands)
    spark_settings = SparkSettings.from_env(spark_dir=spark_dir, thrift=thrift)
    source = landing or spark_settings.landing_uri or str(Settings.from_env().landing_dir)
    if "://" not in source or source.startswith("file://"):
        try:  # a local folder: named before any JVM starts (D55)
            check_landing(Path(source.removeprefix("file://")))
        except FileNotFoundError as exc:
            raise UserError(str(exc)) from exc
    if spark_settings.thrift is None and shutil.which("java") is None:
        raise UserError("a local Spark cluster needs Java 17 (`java` is not on PATH)")
    overrides = _parse_vars(var_pairs)
    with _user_errors():  # an unknown or invalid var before any JVM starts
        from .rule_vars import resolve_rule_vars

        timezone = resolve_rule_vars(overrides).values["timezone"]
    if out_file is not None:
        from .spark.output import check_out

        with _user_errors():  # a wrong --out before any JVM starts
            check_out(out_file)
    try:
        built = build_from_landing(
            source,
            spark_settings,
            var_overrides=overrides or None,
            schemas=("marts.account_rewards",) if out_file else (),
            progress=click.echo,
        )
    except KeyboardInterrupt as exc:  # the local cluster, if any, is stopped by now
        raise Interrupted(
            "rewards spark interrupted; the local Spark cluster is stopped"
            if spark_settings.thrift is None
            else "rewards spark interrupted"
        ) from exc
    except LandingError as exc:
        raise UserError(str(exc)) from exc
    except (SparkBuildFailed, ClusterError) as exc:  # exit 1
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    for name, load in built["loads"].items():
        rows = quantity(load.rows_loaded, DATASETS[name].row_noun)
        quarantined = quantity(load.rows_quarantined, "rows")
        click.echo(f"{name:<18}  {load.mode} load: {rows}, {quarantined} quarantined")
    for line in built["summary"].lines():
        click.echo(line)
    if out_file is not None:
        from .spark.output import write_rows

        with _user_errors():
            written = write_rows(
                built["tables"]["marts.account_rewards"],
                built["schemas"]["marts.account_rewards"],
                out_file,
                timezone,
            )
        click.echo(f"wrote {quantity(written, 'accounts')} to {out_file}")
