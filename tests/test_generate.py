"""The synthetic landing generator: deterministic, contract-clean, realistic, honest about dirt.

The contract checks query the written files with DuckDB directly (independently of the loader),
so a generator bug cannot hide behind a loader bug; one test then runs the project's loader on
the dirty landing to prove every injected row lands on exactly the reason the manifest expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generator import generate_landing
from generator.vocabulary import ROW_REASONS, RULE_REASONS

N_ORDERS = 20_000
SEED = 3
TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)
ARROW_SCHEMAS = {
    "account_snapshots": {
        "snapshot_date": pa.date32(),
        "account_id": pa.string(),
        "account_type": pa.string(),
        "follower_count": pa.int64(),
        "short_video_commerce_enabled": pa.bool_(),
        "is_shop_self_operated": pa.bool_(),
    },
    "videos": {
        "video_id": pa.string(),
        "account_id": pa.string(),
        "published_at": TS,
        "is_commerce": pa.bool_(),
        "deleted_at": TS,
    },
    "orders": {
        "order_id": pa.string(),
        "updated_at": TS,
        "account_id": pa.string(),
        "channel": pa.string(),
        "video_id": pa.string(),
        "created_at": TS,
        "amount": MONEY,
        "refunded_amount": MONEY,
        "status": pa.string(),
        "settled_at": TS,
    },
}
BJ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("clean")
    return root, generate_landing(root, n_orders=N_ORDERS, seed=SEED)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("dirty")
    return root, generate_landing(root, n_orders=N_ORDERS, seed=SEED, dirty=True)


@pytest.fixture(scope="module")
def con(clean: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    """Views over the clean landing files, typed the way the contract says."""
    root, _ = clean
    db = duckdb.connect()
    db.execute("set TimeZone = 'UTC'")
    for name in ("account_snapshots", "videos", "orders"):
        db.execute(f"create view {name} as select * from read_parquet('{root}/{name}/*.parquet')")
    db.execute(
        f"create view enrollments_text as select * from read_csv('{root}/enrollments/*.csv', "
        "header = true, all_varchar = true)"
    )
    db.execute(
        "create view enrollments as select account_id, enrolled_at::timestamptz as enrolled_at, "
        "enrolled_via from enrollments_text"
    )
    return db


def scalar(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


def file_bytes(root: Path) -> dict[str, bytes]:
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in paths}


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = file_bytes_of(tmp_path / "a", seed=11)
    b = file_bytes_of(tmp_path / "b", seed=11)
    c = file_bytes_of(tmp_path / "c", seed=12)
    assert a.keys() == b.keys() and a == b
    shared = a.keys() & c.keys()
    assert any(a[k] != c[k] for k in shared if k.endswith(".parquet"))


def file_bytes_of(root: Path, seed: int) -> dict[str, bytes]:
    generate_landing(root, n_orders=3_000, seed=seed, dirty=True)
    return file_bytes(root)


def test_rerun_over_a_dirty_landing_leaves_no_dirty_files(tmp_path: Path) -> None:
    generate_landing(tmp_path, n_orders=2_000, seed=1, dirty=True)
    generate_landing(tmp_path, n_orders=2_000, seed=1)
    assert not list(tmp_path.rglob("*dirty*"))


# ----------------------------------------------------------------------------- layout


def test_layout_and_manifest(clean: tuple[Path, dict]) -> None:
    root, manifest = clean
    on_disk = json.loads((root / "_manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["n_orders"] == N_ORDERS and manifest["seed"] == SEED
    assert manifest["dirty"] is False and manifest["expected_quarantine"] == {}
    assert manifest["accounts"] == 50
    orders = sorted(p.name for p in (root / "orders").iterdir())
    assert orders[0] == "orders_2025-08-01.parquet" and all(
        n.startswith("orders_20") and n.endswith(".parquet") for n in orders
    )
    assert [p.name for p in (root / "enrollments").iterdir()] == ["enrollments.csv"]
    db = duckdb.connect()
    for name, count in manifest["rows"].items():
        ext = "csv" if name == "enrollments" else "parquet"
        assert scalar(db, f"select count(*) from '{root}/{name}/*.{ext}'") == count


def test_every_order_file_holds_the_events_of_its_beijing_day(
    clean: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    root, _ = clean
    wrong = scalar(
        con,
        f"""
        select count(*) from read_parquet('{root}/orders/*.parquet', filename = true)
        where filename not like '%orders_' || strftime(timezone('{BJ}', updated_at),
                                                       '%Y-%m-%d') || '.parquet'""",
    )
    assert wrong == 0


def test_parquet_arrow_types(clean: tuple[Path, dict]) -> None:
    root, _ = clean
    for dataset, expected in ARROW_SCHEMAS.items():
        for path in (root / dataset).glob("*.parquet"):
            schema = pq.read_schema(path)
            assert {f.name: f.type for f in schema} == expected, path


# ----------------------------------------------------------------------------- contract


def test_required_values_and_accepted_values(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            """select count(*) from account_snapshots where snapshot_date is null
        or account_id is null or account_type not in ('merchant', 'promoter')
        or account_type is null or follower_count is null or follower_count < 0
        or short_video_commerce_enabled is null or is_shop_self_operated is null""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from enrollments where account_id is null
        or enrolled_at is null or enrolled_via is null
        or enrolled_via not in ('shop_account', 'channels_account')""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from videos where video_id is null or account_id is null
        or published_at is null or is_commerce is null or deleted_at < published_at""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from orders where order_id is null
        or updated_at is null or account_id is null or created_at is null
        or amount is null or refunded_amount is null or channel is null or status is null
        or channel not in ('short_video', 'live', 'showcase', 'other')
        or status not in ('paid', 'settled', 'refunded', 'cancelled')""",
        )
        == 0
    )


def test_enrollment_csv_text_formats(con: duckdb.DuckDBPyConnection) -> None:
    bad = scalar(
        con,
        r"""select count(*) from enrollments_text where not regexp_matches(
        enrolled_at, '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|\+08:00)$')""",
    )
    assert bad == 0


def test_order_row_rules(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            """select count(*) from orders where amount <= 0 or refunded_amount < 0
        or refunded_amount > amount""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from orders where status = 'settled'
        and settled_at is null""",
        )
        == 0
    )
    assert scalar(con, "select count(*) from orders where settled_at < created_at") == 0
    assert (
        scalar(
            con,
            """select count(*) from orders where (channel = 'short_video')
        <> (video_id is not null)""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from orders where status = 'refunded'
        and refunded_amount <> amount""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from orders where status = 'cancelled'
        and refunded_amount <> 0""",
        )
        == 0
    )


def test_keys_are_unique(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            """select count(*) from (select account_id, snapshot_date
        from account_snapshots group by all having count(*) > 1)""",
        )
        == 0
    )
    assert scalar(con, "select count(*) - count(distinct video_id) from videos") == 0
    # R2: no two different versions of an order share an updated_at (clean data never conflict).
    assert (
        scalar(
            con,
            """select count(*) from (select order_id, updated_at from orders
        group by all having count(*) > 1)""",
        )
        == 0
    )


def test_short_video_orders_reference_own_commerce_videos(con: duckdb.DuckDBPyConnection) -> None:
    bad = scalar(
        con,
        """select count(*) from orders o left join videos v using (video_id)
        where o.channel = 'short_video' and (v.video_id is null or not v.is_commerce
            or v.account_id <> o.account_id or v.published_at > o.created_at)""",
    )
    assert bad == 0


def test_every_order_is_paid_first_then_moves_forward(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "select count(distinct order_id) from orders") == N_ORDERS
    assert (
        scalar(
            con,
            """select count(*) from (select order_id from orders group by 1
        having min(updated_at) <> min(created_at) or arg_min(status, updated_at) <> 'paid')""",
        )
        == 0
    )
    assert scalar(con, "select count(*) from orders where updated_at < created_at") == 0


# ----------------------------------------------------------------------------- realism

LATEST_STATE = """(select * from orders
    qualify updated_at = max(updated_at) over (partition by order_id))"""
QUOTA = """case when coalesce(follower_count, 0) < 1000 then 1 when follower_count < 10000 then 2
    when follower_count < 100000 then 5 else 10 end"""


def test_accounts_in_every_quota_tier(con: duckdb.DuckDBPyConnection) -> None:
    tiers = scalar(con, f"""select count(distinct {QUOTA}) from account_snapshots""")
    assert tiers == 4
    # followers grow: some account is in a higher tier later than earlier
    assert (
        scalar(
            con,
            f"""select count(*) from (select account_id from account_snapshots
        group by 1 having min({QUOTA}) < max({QUOTA}))""",
        )
        > 0
    )


def test_snapshots_have_gaps_and_several_days(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            """select min(n) from (select count(*) n from account_snapshots
        group by account_id)""",
        )
        >= 1
    )
    assert (
        scalar(
            con,
            """select count(*) from (select account_id,
        snapshot_date - lag(snapshot_date) over (partition by account_id order by snapshot_date)
        as gap from account_snapshots)
        where gap > 7""",
        )
        > 0
    )


def test_new_entrants_and_partial_and_late_settlements(con: duckdb.DuckDBPyConnection) -> None:
    new_entrants = scalar(
        con,
        f"""select count(*) from (select distinct account_id from orders)
        where account_id not in (select account_id from {LATEST_STATE}
            where channel = 'short_video' and status = 'settled'
            and timezone('{BJ}', created_at)::date between '2025-08-01' and '2025-10-31')""",
    )
    assert new_entrants > 0
    assert (
        scalar(
            con,
            f"""select count(*) from {LATEST_STATE} where status = 'settled'
        and refunded_amount > 0 and refunded_amount < amount""",
        )
        > 0
    )
    assert (
        scalar(
            con,
            f"""select count(*) from {LATEST_STATE} where status = 'settled'
        and timezone('{BJ}', settled_at)::date > '2026-01-31'""",
        )
        > 0
    )


def test_over_quota_account_days(con: duckdb.DuckDBPyConnection) -> None:
    over = scalar(
        con,
        f"""
        with per_day as (select account_id, timezone('{BJ}', published_at)::date as day,
                                count(*) as n
                         from videos where is_commerce group by all),
        with_followers as (select p.*, s.follower_count from per_day p asof left join
            account_snapshots s on p.account_id = s.account_id and p.day >= s.snapshot_date)
        select count(*) from with_followers where n > {QUOTA}""",
    )
    assert over > 0


def test_events_straddle_beijing_midnight_at_period_boundaries(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for boundary in ("2025-11-01", "2025-11-22", "2026-01-01"):
        instant = f"timestamptz '{boundary} 00:00:00+08:00'"
        before = scalar(
            con,
            f"""select count(*) from orders where created_at < {instant}
            and created_at >= {instant} - interval 2 minute""",
        )
        after = scalar(
            con,
            f"""select count(*) from orders where created_at >= {instant}
            and created_at < {instant} + interval 2 minute""",
        )
        assert before > 0 and after > 0, boundary
    cutoff = "timestamptz '2026-02-01 00:00:00+08:00'"
    assert scalar(con, f"select count(*) from orders where settled_at = {cutoff}") > 0
    assert (
        scalar(
            con,
            f"""select count(*) from orders
        where settled_at = {cutoff} - interval 1 second""",
        )
        > 0
    )


def test_channels_peaks_and_lifecycles(con: duckdb.DuckDBPyConnection) -> None:
    share = scalar(con, f"""select avg((channel = 'short_video')::int) from {LATEST_STATE}""")
    assert 0.5 < share < 0.7
    top_days = [
        r[0].isoformat()
        for r in con.execute(f"""
        select timezone('{BJ}', created_at)::date d from orders where status = 'paid'
        group by 1 order by count(*) desc limit 2""").fetchall()
    ]
    assert sorted(top_days) == ["2025-11-11", "2025-12-12"]
    statuses = {r[0] for r in con.execute(f"select distinct status from {LATEST_STATE}").fetchall()}
    assert statuses == {"paid", "settled", "refunded", "cancelled"}
    assert scalar(con, "select count(*) from videos where deleted_at is not null") > 0
    assert scalar(con, "select count(distinct is_commerce) from videos") == 2


def test_eligibility_outcomes_all_occur(con: duckdb.DuckDBPyConnection) -> None:
    """Each R10 outcome exists, judged on the first enrollment and the snapshot as of its day."""
    outcomes = {
        r[0]
        for r in con.execute(f"""
        with first as (select account_id, arg_min(enrolled_at, enrolled_at) as at,
                              arg_min(enrolled_via, enrolled_at) as via,
                              timezone('{BJ}', min(enrolled_at))::date as day
                       from enrollments group by 1),
        judged as (select f.*, s.* exclude (account_id) from first f asof left join
                   account_snapshots s on f.account_id = s.account_id
                   and f.day >= s.snapshot_date)
        select case when day > '2025-12-31' then 'enrolled_after_campaign'
            when snapshot_date is null then 'no_snapshot'
            when (account_type = 'merchant') <> (via = 'shop_account')
                then 'wrong_enrollment_channel'
            when not short_video_commerce_enabled then 'commerce_not_enabled'
            when follower_count < 1000 and not is_shop_self_operated
                then 'below_follower_threshold'
            when follower_count < 1000 then 'eligible_self_operated'
            else 'eligible' end
        from judged""").fetchall()
    }
    assert outcomes == {
        "enrolled_after_campaign",
        "no_snapshot",
        "wrong_enrollment_channel",
        "commerce_not_enabled",
        "below_follower_threshold",
        "eligible_self_operated",
        "eligible",
    }
    assert (
        scalar(
            con,
            """select count(*) from (select account_id from enrollments group by 1
        having count(*) > 1)""",
        )
        > 0
    )
    assert (
        scalar(
            con,
            """select count(distinct account_id) from account_snapshots
        where account_id not in (select account_id from enrollments)""",
        )
        > 0
    )


# ----------------------------------------------------------------------------- dirty


def test_dirty_manifest_names_every_reason(dirty: tuple[Path, dict]) -> None:
    root, manifest = dirty
    expected = manifest["expected_quarantine"]
    assert set(expected) == set(ROW_REASONS) | set(RULE_REASONS)
    assert all(count > 0 for count in expected.values())
    for reason in ("duplicate_key", "order_version_conflict"):
        assert expected[reason] % 2 == 0
    assert manifest["exact_duplicate_order_rows"] > 0 and manifest["out_of_order_orders"] > 0
    for dataset in ("account_snapshots", "enrollments", "videos", "orders"):
        assert list((root / dataset).glob("*_dirty.csv")), dataset


def test_dirty_keeps_the_clean_orders(clean: tuple[Path, dict], dirty: tuple[Path, dict]) -> None:
    """Same seed: the dirty landing holds every clean row (some moved to the CSV), plus extras
    that only use fresh `bad-` ids or repeat a clean row exactly."""
    (clean_root, _), (dirty_root, _) = clean, dirty
    db = duckdb.connect()
    db.execute("set TimeZone = 'UTC'")
    cols = (
        "order_id, updated_at, account_id, channel, video_id, created_at, amount, "
        "refunded_amount, status, settled_at"
    )
    csv_typed = f"""select order_id, updated_at::timestamptz, account_id, channel,
        nullif(video_id, ''), created_at::timestamptz, amount::decimal(18,2),
        refunded_amount::decimal(18,2), status, nullif(settled_at, '')::timestamptz
        from read_csv('{dirty_root}/orders/orders_dirty.csv', all_varchar = true, header = true)
        where not starts_with(order_id, 'bad-')"""
    missing = scalar(
        db,
        f"""select count(*) from (
        select {cols} from '{clean_root}/orders/*.parquet'
        except all (select {cols} from '{dirty_root}/orders/*.parquet'
                    union all {csv_typed}))""",
    )
    assert missing == 0
    extra_clean_ids = scalar(
        db,
        f"""select count(*) from ({csv_typed}) c
        where order_id not in (select order_id from '{clean_root}/orders/*.parquet')""",
    )
    assert extra_clean_ids == 0


def test_loader_quarantines_exactly_the_expected_rows(dirty: tuple[Path, dict]) -> None:
    """Integration with the project's loader: row-level reasons match the manifest, and R2/R4
    counted over what it loaded match too (dbt applies those; the SQL here mirrors the rules)."""
    from orchestration.contract import DATASETS
    from orchestration.defs.landing.loader import load_dataset

    root, manifest = dirty
    db = duckdb.connect()
    found: dict[str, int] = {}
    for name, dataset in DATASETS.items():
        for reason, count in load_dataset(db, dataset, root / name).by_reason.items():
            found[reason] = found.get(reason, 0) + count
    expected = manifest["expected_quarantine"]
    assert found == {r: c for r, c in expected.items() if r in ROW_REASONS}

    db.execute("""create temp table state as
        with versions as (select distinct * exclude (_source_file, _source_row) from raw.orders)
        select * from versions
        qualify updated_at = max(updated_at) over (partition by order_id)""")
    conflicts = scalar(
        db,
        """select count(*) from state where order_id in
        (select order_id from state group by 1 having count(*) > 1)""",
    )
    assert conflicts == expected["order_version_conflict"]
    r4 = dict(
        db.execute("""select case when v.video_id is null then 'video_not_found'
            when not v.is_commerce then 'video_not_commerce'
            when v.account_id <> s.account_id then 'video_of_other_account' end, count(*)
        from state s left join raw.videos v using (video_id)
        where s.channel = 'short_video' group by 1""").fetchall()
    )
    for reason in ("video_not_found", "video_not_commerce", "video_of_other_account"):
        assert r4[reason] == expected[reason]


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate_landing(
        tmp_path,
        n_orders=1_000,
        seed=2,
        dirty=True,
        progress=lambda s, d, t: calls.append((s, d, t)),
    )
    stages = [c[0] for c in calls]
    assert {"accounts", "videos", "orders", "dirty"} <= set(stages)
    orders = [c for c in calls if c[0] == "orders"]
    assert orders[-1][1] == orders[-1][2] and len(orders) > 100


def _pinned(root: Path, boundary: str) -> set[str]:
    """Which of the four instants pinned around a Beijing midnight (R1: 23:59:58, 23:59:59 the
    day before, 00:00:00, 00:00:01) have an order created at them."""
    midnight = f"timestamptz '{boundary} 00:00:00+08:00'"
    rows = duckdb.sql(f"""
        select distinct epoch(created_at) - epoch({midnight}) as offset_s
        from read_parquet('{root}/orders/*.parquet')
        where created_at between {midnight} - interval 2 second and {midnight} + interval 1 second
    """).fetchall()
    return {f"{int(offset):+d}s" for (offset,) in rows}


def test_boundary_cases_follow_a_changed_campaign_start(tmp_path: Path) -> None:
    """The generator's dates are the rule vars' (issue 15): move `campaign_start` a week later
    and the orders pinned to both sides of the window's first Beijing midnight move with it, as
    does the enrollment rush around the start."""
    from orchestration.rule_vars import rule_var_defaults

    moved = {**rule_var_defaults(), "campaign_start": "2025-11-29"}
    generate_landing(tmp_path / "moved", n_orders=4_000, seed=SEED, rule_vars=moved)
    generate_landing(tmp_path / "default", n_orders=4_000, seed=SEED)
    every_side = {"-2s", "-1s", "+0s", "+1s"}
    assert _pinned(tmp_path / "moved", "2025-11-29") == every_side
    assert _pinned(tmp_path / "default", "2025-11-22") == every_side
    assert not _pinned(tmp_path / "moved", "2025-11-22") >= every_side
    assert not _pinned(tmp_path / "default", "2025-11-29") >= every_side

    def rush(root: Path, start: str) -> float:
        """The share of first enrollments in the five days around `start`."""
        return duckdb.sql(f"""
            with firsts as (
                select min(enrolled_at::timestamptz) as first_at
                from read_csv('{root}/enrollments/*.csv', all_varchar = true)
                group by account_id
            )
            select avg(case when timezone('{BJ}', first_at)::date
                between date '{start}' - 3 and date '{start}' + 1 then 1.0 else 0 end)
            from firsts""").fetchall()[0][0]

    assert rush(tmp_path / "moved", "2025-11-29") > 2 * rush(tmp_path / "moved", "2025-11-22")
    assert rush(tmp_path / "default", "2025-11-22") > 2 * rush(tmp_path / "default", "2025-11-29")


def test_the_cli_writes_one_line_per_stage_into_a_log_not_redrawn_frames(tmp_path: Path) -> None:
    """`rewards generate 2> log`: click's progress bar sees stderr is not a terminal and writes
    each stage's label once; no carriage-return frames pile up in the log."""
    from click.testing import CliRunner

    from orchestration.cli import main

    done = CliRunner().invoke(
        main, ["generate", "--out", str(tmp_path / "landing"), "--orders", "3000", "--dirty"]
    )
    assert done.exit_code == 0, done.output
    assert "\r" not in done.stderr
    stages = [line.strip() for line in done.stderr.splitlines()]
    assert stages == ["accounts", "videos", "orders", "dirty"]
    # orders as orders, the change-log rows they were written as apart (R2)
    manifest = json.loads((tmp_path / "landing" / "_manifest.json").read_text())
    rows = manifest["rows"]
    assert rows["orders"] > 3_000
    assert (
        f"account_snapshots {rows['account_snapshots']:,} rows, "
        f"enrollments {rows['enrollments']:,} rows, videos {rows['videos']:,} rows, "
        f"orders 3,000 ({rows['orders']:,} change-log rows); --dirty's rows included"
    ) in done.stdout
