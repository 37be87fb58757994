"""Benchmark harness: the pipeline against two baselines on the same landing files.

    python bench/run.py full [--sizes 1m,10m,100m] [--only pipeline,sql,pandas,spark]
    python bench/run.py incremental [--sizes 1m,10m] [--changes 50000]
    python bench/run.py small [--repeat 3]
    python bench/run.py ui [--repeat 2]

`full`: for each size, generates the landing once (`rewards generate --orders N --seed 7`, kept
in --work for the next time), then runs, each under `/usr/bin/time -v`:
  * pipeline  `rewards run` end to end on a fresh warehouse (Dagster, loader, quality gates, dbt);
  * sql       bench/baseline_sql.py, one hand-written DuckDB query of the rules;
  * pandas    bench/baseline_pandas.py, a straightforward pandas script;
  * spark     (only when asked) `rewards spark --out`: the same landing to marts on a local Spark
              cluster it starts and stops, its phases as it prints them;
and reports wall time, peak RSS, the ratio to the SQL baseline and whether each produced the
same rewards as the pipeline (all eight output columns, every account). A run whose process tree
goes over --mem-cap-gb of RSS is killed and reported as such (so pandas at 100M fails cleanly
instead of taking the machine down).

`incremental`: for each size, runs the pipeline on the generated landing, runs it again with
nothing new (a day without files: the steady state daily runs start from), lands one day of
changes (bench/changes.py: --changes rows, 3/4 later versions of existing orders, 1/4 new
orders) and runs again (the daily run), then runs a full rebuild of the same files on a fresh
warehouse; reports both times, whether every mart is identical (each exported to CSV in a fixed
order and compared by SHA-256), and the daily run's cost at each size against the previous one.

`small`: `rewards run` on the rulebook fixture, on a fresh warehouse and again on the same one,
each run's wall time split into phases from the run's own events. `ui`: the same landing run
once by `rewards run`, then "Materialize all" clicked in `rewards ui` (`dg dev`, real Chromium
through Playwright, as tests/test_browser.py does) --repeat times: from the click to the run's
end, split into the run queue, the run worker's start and the run's own phases.

Results go to stdout as markdown and are appended to <work>/results.jsonl; the recorded ones
are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BIN = Path(sys.executable).parent
SIZES = {"1m": 1_000_000, "10m": 10_000_000, "100m": 100_000_000}
OUTPUT_COLUMNS = (
    "account_id, is_eligible, baseline_period_gmv, baseline_gmv, window_gmv, "
    "over_quota_gmv, reward_base, reward_points"
)


@dataclass
class Measure:
    size: str
    what: str
    wall_s: float
    peak_rss_gb: float
    exit_code: int
    note: str = ""
    same_result: bool | None = None
    # the peak of the whole process tree (a local Spark cluster's JVMs are the command's children)
    tree_peak_gb: float | None = None


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} vCPU ({cpu}), {mem_kb / 1024**2:.1f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def _tree_rss_bytes(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(
                    (int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS")), 0
                )
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def timed(
    size: str, what: str, cmd: list[str], log: Path, mem_cap_gb: float, env: dict | None = None
) -> Measure:
    """Run `cmd` under /usr/bin/time -v; kill its process group above `mem_cap_gb` of RSS."""
    print(f"[{size}] {what}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-v", *cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        killed = threading.Event()
        seen = [0]

        def watch() -> None:
            while proc.poll() is None:
                seen[0] = max(seen[0], _tree_rss_bytes(proc.pid))
                if seen[0] > mem_cap_gb * 1024**3:
                    killed.set()
                    os.killpg(proc.pid, signal.SIGKILL)
                    return
                time.sleep(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()
        code = proc.wait()
        wall = time.monotonic() - started
        watcher.join()
    text = log.read_text(errors="replace")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if elapsed:
        parts = [float(x) for x in elapsed.group(1).split(":")]
        wall = sum(x * 60**i for i, x in enumerate(reversed(parts)))
    # /usr/bin/time is killed with the process group: then the watchdog's reading is the peak
    peak = int(rss.group(1)) / 1024**2 if rss and not killed.is_set() else seen[0] / 1024**3
    note = (
        f"killed above the {mem_cap_gb:g} GB RSS cap"
        if killed.is_set()
        else ("" if code == 0 else f"failed, see {log}")
    )
    m = Measure(size, what, round(wall, 1), round(peak, 2), code, note)
    m.tree_peak_gb = round(seen[0] / 1024**3, 2)
    print(
        f"[{size}] {what}: {m.wall_s:.1f}s, {m.peak_rss_gb:.2f} GB "
        f"(process tree {m.tree_peak_gb:.2f} GB) {note}",
        file=sys.stderr,
        flush=True,
    )
    return m


def require_success(m: Measure, log: Path) -> None:
    if m.exit_code:
        sys.exit(f"{m.what} failed ({m.note}); see {log}")


def landing_for(work: Path, size: str, mem_cap_gb: float) -> Path:
    landing = work / f"landing{size}"
    manifest = landing / "_manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("n_orders") == SIZES[size]:
        return landing
    m = timed(
        size,
        "generate",
        [
            str(BIN / "rewards"),
            "generate",
            "--out",
            str(landing),
            "--orders",
            str(SIZES[size]),
            "--seed",
            "7",
        ],
        work / f"generate{size}.log",
        mem_cap_gb,
    )
    record(work, m)
    if m.exit_code:
        sys.exit(f"generate failed: {work / f'generate{size}.log'}")
    return landing


def fresh_warehouse(path: Path) -> None:
    serving = path.with_suffix(".serving.duckdb")
    for p in (
        path,
        path.with_suffix(".duckdb.wal"),
        path.with_suffix(".gx"),
        path.with_suffix(".tmp"),
        path.with_suffix(".dbt.log"),
        path.with_suffix(".dbt"),
        serving,
        *(serving.with_name(serving.name + g) for g in (".a", ".b")),
        path.with_suffix(".dagster"),
    ):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()


def export_rewards(warehouse: Path, out: Path, columns: str = OUTPUT_COLUMNS) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            f"copy (select {columns} from marts.account_rewards order by account_id) "
            f"to '{out}' (header, delimiter ',')"
        )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record(work: Path, m: Measure) -> None:
    with open(work / "results.jsonl", "a") as f:
        f.write(json.dumps({**asdict(m), "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")


def run_full(args: argparse.Namespace) -> None:
    work: Path = args.work
    only = set(args.only.split(","))
    print(f"machine: {machine()}", file=sys.stderr)
    table = []
    for size in args.sizes.split(","):
        landing = landing_for(work, size, args.mem_cap_gb)
        outputs: dict[str, Path] = {}
        measures: dict[str, Measure] = {}
        if "pipeline" in only:
            warehouse = work / f"w{size}.duckdb"
            fresh_warehouse(warehouse)
            m = timed(
                size,
                "pipeline",
                [
                    str(BIN / "rewards"),
                    "run",
                    "--landing",
                    str(landing),
                    "--warehouse",
                    str(warehouse),
                ],
                work / f"pipeline{size}.log",
                args.mem_cap_gb,
            )
            if m.exit_code == 0:
                outputs["pipeline"] = work / f"pipeline{size}.csv"
                export_rewards(warehouse, outputs["pipeline"])
            measures["pipeline"] = m
        if "spark" in only:
            # landing files to marts on a local Spark cluster the command starts and stops
            # (its JVMs are the command's children: the peak RSS is theirs too)
            spark_dir, out = work / f"spark{size}", work / f"spark{size}.parquet"
            shutil.rmtree(spark_dir, ignore_errors=True)
            out.unlink(missing_ok=True)
            log = work / f"spark{size}.log"
            m = timed(
                size,
                "spark",
                [str(BIN / "rewards"), "spark", "--landing", str(landing)]
                + ["--spark-dir", str(spark_dir), "--out", str(out)],
                log,
                args.mem_cap_gb,
            )
            if m.exit_code == 0:
                outputs["spark"] = work / f"spark{size}.csv"
                with duckdb.connect() as con:
                    con.execute(
                        f"copy (select {OUTPUT_COLUMNS} from read_parquet('{out}') "
                        f"order by account_id) to '{outputs['spark']}' (header, delimiter ',')"
                    )
                # where the time went: the command's own phase lines
                m.note = "; ".join(
                    line.strip() for line in log.read_text().splitlines() if line.startswith("[")
                )
            measures["spark"] = m
        for name in ("sql", "pandas"):
            if name in only:
                out = work / f"{name}{size}.csv"
                out.unlink(missing_ok=True)
                m = timed(
                    size,
                    name,
                    [sys.executable, str(BENCH / f"baseline_{name}.py"), str(landing), str(out)],
                    work / f"{name}{size}.log",
                    args.mem_cap_gb,
                )
                if m.exit_code == 0:
                    outputs[name] = out
                measures[name] = m
        reference = outputs.get("pipeline") or outputs.get("sql")
        for name, m in measures.items():
            if name in outputs and reference:
                m.same_result = sha256(outputs[name]) == sha256(reference)
            record(work, m)
            table.append(m)
    sql = {m.size: m.wall_s for m in table if m.what == "sql" and m.exit_code == 0}
    print(
        "\n| orders | run | wall | peak RSS | process tree peak | × SQL baseline | same rewards "
        "| note |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for m in table:
        ratio = f"{m.wall_s / sql[m.size]:.2f}×" if m.size in sql and not m.exit_code else "–"
        same = {True: "yes", False: "**no**", None: "–"}[m.same_result]
        print(
            f"| {m.size} | {m.what} | {m.wall_s:.1f} s | {m.peak_rss_gb:.2f} GB "
            f"| {m.tree_peak_gb:.2f} GB | {ratio} "
            f"| {same} | {m.note} |"
        )


def export_marts(warehouse: Path, out_dir: Path) -> dict[str, str]:
    """Every mart exported to CSV in a fixed row order; table -> SHA-256 of its file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    digests = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        ).fetchall():
            out = out_dir / f"{name}.csv"
            con.execute(f"copy (select * from marts.{name} order by all) to '{out}' (header)")
            digests[name] = sha256(out)
    return digests


def run_incremental(args: argparse.Namespace) -> None:
    """A day of changes landed on a built warehouse, against a full rebuild of the same files."""
    from changes import write_changes

    work: Path = args.work
    daily_costs = {}
    for size in args.sizes.split(","):
        source = landing_for(work, size, args.mem_cap_gb)
        daily = work / f"landing{size}_daily"
        if daily.exists():
            shutil.rmtree(daily)
        for folder in source.iterdir():
            if folder.is_dir():
                shutil.copytree(folder, daily / folder.name, copy_function=os.link)
        rewards = [str(BIN / "rewards"), "run", "--landing", str(daily)]
        incremental_wh = work / f"w{size}_daily.duckdb"
        fresh_warehouse(incremental_wh)
        first = timed(
            size,
            "pipeline before the day",
            [*rewards, "--warehouse", str(incremental_wh)],
            work / f"daily{size}_before.log",
            args.mem_cap_gb,
        )
        record(work, first)
        require_success(first, work / f"daily{size}_before.log")
        # a day with nothing new, as the schedule meets one: the steady state a daily run
        # starts from (the serving copy's second generation exists from here on)
        idle = timed(
            size,
            "run with nothing new landed",
            [*rewards, "--warehouse", str(incremental_wh)],
            work / f"daily{size}_idle.log",
            args.mem_cap_gb,
        )
        record(work, idle)
        require_success(idle, work / f"daily{size}_idle.log")
        change_file = daily / "orders" / "orders_zz_changes.parquet"
        rows = write_changes(source, change_file, args.changes)
        inc = timed(
            size,
            f"daily run after landing {rows:,} change rows",
            [*rewards, "--warehouse", str(incremental_wh)],
            work / f"daily{size}_incremental.log",
            args.mem_cap_gb,
        )
        require_success(inc, work / f"daily{size}_incremental.log")
        full_wh = work / f"w{size}_full.duckdb"
        fresh_warehouse(full_wh)
        full = timed(
            size,
            "full rebuild of the same files",
            [*rewards, "--warehouse", str(full_wh)],
            work / f"daily{size}_full.log",
            args.mem_cap_gb,
        )
        require_success(full, work / f"daily{size}_full.log")
        got = export_marts(incremental_wh, work / f"daily{size}_incremental_marts")
        want = export_marts(full_wh, work / f"daily{size}_full_marts")
        differ = sorted(name for name in want if got.get(name) != want[name])
        inc.same_result = full.same_result = not differ and got.keys() == want.keys()
        if differ:
            inc.note = "marts differ: " + ", ".join(differ)
        record(work, inc)
        record(work, full)
        daily_costs[size] = inc.wall_s
        print(
            f"\n| orders | change rows | nothing new | daily run | full rebuild | ratio | marts "
            f"identical |\n| --- | --- | --- | --- | --- | --- | --- |\n"
            f"| {size} | {rows:,} | {idle.wall_s:.1f} s | {inc.wall_s:.1f} s, "
            f"{inc.peak_rss_gb:.2f} GB "
            f"| {full.wall_s:.1f} s, {full.peak_rss_gb:.2f} GB | {inc.wall_s / full.wall_s:.1%} "
            f"| {'yes, all ' + str(len(want)) if inc.same_result else '**no** ' + inc.note} |",
            flush=True,
        )
    sizes = list(daily_costs)
    for small, large in zip(sizes, sizes[1:], strict=False):
        print(
            f"\ndaily run {large} / {small}: {daily_costs[large] / daily_costs[small]:.2f}x "
            f"({daily_costs[large]:.1f} s / {daily_costs[small]:.1f} s)"
        )


def _phases(home: Path, run_id: str, started: float, ended: float) -> dict[str, float]:
    """Where a `rewards run`'s wall time went, from the run's own events in its instance:
    process start to the run's start, each group of steps, and the run's end to process exit."""
    from dagster import DagsterInstance

    with DagsterInstance.local_temp(tempdir=str(home)) as instance:
        events = instance.all_logs(run_id)
    run_start = min(e.timestamp for e in events)
    run_end = max(e.timestamp for e in events)
    spans: dict[str, list[float]] = {}
    for e in events:
        if e.step_key and e.dagster_event is not None:
            kind = e.dagster_event.event_type_value
            if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                spans.setdefault(e.step_key, []).append(e.timestamp)

    def group(step: str) -> str:
        if step.startswith("raw__"):
            return "raw loads"
        if step == "gx_raw":
            return "GX on the landing (gx_raw)"
        if step == "dbt_models":
            return "dbt build (every model and dbt test)"
        if step.startswith("gx_"):
            return "GX after the build (staging, intermediate, marts)"
        return "serving copy"

    first = "process start to the run's first event (imports, definitions, instance)"
    phases = {first: run_start - started}
    in_steps = 0.0
    for step, times in spans.items():
        phases[group(step)] = phases.get(group(step), 0.0) + max(times) - min(times)
        in_steps += max(times) - min(times)
    phases["between steps (planning, events, checks' bookkeeping)"] = run_end - run_start - in_steps
    phases["run's end to exit (Data Docs pages, summary, closing)"] = ended - run_end
    return {k: round(v, 1) for k, v in phases.items()}


def run_small(args: argparse.Namespace) -> None:
    """`rewards run` on the rulebook fixture (tests/support/rulebook_cases): a fresh warehouse,
    then again on the same one, --repeat times each, with each run's phases."""
    sys.path.insert(0, str(REPO / "tests"))
    from support import rulebook_cases

    landing = args.work / "rulebook" / "landing"
    if not landing.exists():
        rulebook_cases.build()[0].write(landing)
    rows = []
    for i in range(args.repeat):
        warehouse = args.work / "rulebook" / f"w{i}" / "warehouse.duckdb"
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        for what in ("fresh", "again"):
            log = args.work / "rulebook" / f"run-{i}-{what}.log"
            cmd = [str(BIN / "rewards"), "run", "--landing", str(landing)]
            cmd += ["--warehouse", str(warehouse)]
            started = time.time()
            m = timed("rulebook", f"rewards run ({what})", cmd, log, args.mem_cap_gb)
            ended = time.time()
            require_success(m, log)
            record(args.work, m)
            run_id = re.search(r"Dagster run ([0-9a-f-]{36})", log.read_text()).group(1)
            phases = _phases(warehouse.with_suffix(".dagster"), run_id, started, ended)
            rows.append((what, m, phases))
    print("| run | wall s | peak RSS GB |\n| --- | --- | --- |")
    for what, m, _ in rows:
        print(f"| {what} | {m.wall_s} | {m.peak_rss_gb} |")
    print("\n| phase | " + " | ".join(what for what, _, _ in rows) + " |")
    print("| --- |" + " --- |" * len(rows))
    for phase in rows[0][2]:
        print(f"| {phase} | " + " | ".join(str(p.get(phase, "")) for _, _, p in rows) + " |")


def run_ui(args: argparse.Namespace) -> None:
    """ "Materialize all" in `rewards ui` on the rulebook fixture, after one `rewards run` there:
    the time from the click to the run's end, by phase, --repeat times."""
    sys.path.insert(0, str(REPO / "tests"))
    from dagster import DagsterInstance, DagsterRunStatus
    from playwright.sync_api import sync_playwright
    from support import rulebook_cases
    from support.dagster_ui import (
        CHROMIUM_ARGS,
        DagsterDev,
        dismiss_dialogs_automatically,
        materialize_all,
        require_chromium,
    )

    root = args.work / "ui"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    landing = rulebook_cases.build()[0].write(root / "landing")
    warehouse = root / "warehouse.duckdb"
    cmd = [str(BIN / "rewards"), "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    log = root / "run.log"
    require_success(timed("rulebook", "rewards run (seeds the UI)", cmd, log, args.mem_cap_gb), log)
    home = warehouse.with_suffix(".dagster")
    rows = []
    with DagsterDev(landing, warehouse, root / "dagster-dev.log") as ui, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(require_chromium()), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        dismiss_dialogs_automatically(page)
        for _ in range(args.repeat):
            page.goto(f"{ui.url}/asset-groups")
            clicked = time.time()
            run_id = materialize_all(page)
            while True:
                with DagsterInstance.local_temp(tempdir=str(home)) as instance:
                    run_record = instance.get_run_record_by_id(run_id)
                if run_record.dagster_run.status in (
                    DagsterRunStatus.SUCCESS,
                    DagsterRunStatus.FAILURE,
                    DagsterRunStatus.CANCELED,
                ):
                    break
                time.sleep(0.5)
            if run_record.dagster_run.status != DagsterRunStatus.SUCCESS:
                sys.exit(f"UI run {run_id} ended {run_record.dagster_run.status}; see {root}")
            ended = run_record.end_time
            phases = _phases(home, run_id, clicked, ended)
            first = next(iter(phases))
            # the click to the run's first event is the queue and the run worker's start
            phases = {
                "click to the run's first event (run queue, run worker starts, imports, "
                "definitions)": phases.pop(first),
                **phases,
            }
            phases.pop("run's end to exit (Data Docs pages, summary, closing)", None)
            wall = round(ended - clicked, 1)
            rows.append((wall, phases))
            record(
                args.work,
                Measure("rulebook", "Materialize all (UI)", wall, 0.0, 0, "click to run end"),
            )
        browser.close()
    print("| phase | " + " | ".join(f"run {i + 1}" for i in range(len(rows))) + " |")
    print("| --- |" + " --- |" * len(rows))
    print("| click to the run's end | " + " | ".join(str(w) for w, _ in rows) + " |")
    for phase in rows[0][1]:
        print(f"| {phase} | " + " | ".join(str(p.get(phase, "")) for _, p in rows) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/bench"),
        help="where landings, warehouses, logs and results go",
    )
    parser.add_argument(
        "--mem-cap-gb",
        type=float,
        default=20.0,
        help="kill a run whose process tree RSS exceeds this",
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    full = sub.add_parser("full", help="pipeline vs SQL vs pandas baselines")
    full.add_argument("--sizes", default="1m,10m,100m")
    full.add_argument("--only", default="pipeline,sql,pandas")
    inc = sub.add_parser("incremental", help="a day of changes vs a full rebuild")
    inc.add_argument("--sizes", default="1m,10m")
    inc.add_argument(
        "--changes",
        type=int,
        default=50_000,
        help="change-log rows in the day's file (bench/changes.py)",
    )
    small = sub.add_parser("small", help="rewards run on the rulebook fixture, fresh and again")
    small.add_argument("--repeat", type=int, default=3)
    ui = sub.add_parser("ui", help='"Materialize all" in rewards ui on the rulebook fixture')
    ui.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    modes = {"full": run_full, "incremental": run_incremental, "small": run_small, "ui": run_ui}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
