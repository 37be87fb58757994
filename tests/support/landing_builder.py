"""A tiny DSL to write hand-built landing folders in the data contract's CSV format."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.contract import DATASETS

# the columns each dataset's files carry, in order: the contract's own (issue 15)
COLUMNS = {name: dataset.column_names for name, dataset in DATASETS.items()}


def noon(day: str) -> str:
    """Beijing noon of a day, as an ISO instant with offset."""
    return f"{day}T12:00:00+08:00"


def plus_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Landing:
    """Rows per dataset and file; `write()` lays them out as a landing directory."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self._order_seq = 0

    def row(self, dataset: str, file: str | None = None, **values) -> None:
        self.files[(dataset, file or f"{dataset}.csv")].append(values)

    def snapshot(
        self,
        account: str,
        day: str = "2025-07-01",
        *,
        type: str = "merchant",
        followers: int = 5000,
        enabled: bool = True,
        self_op: bool = False,
        file: str | None = None,
    ) -> None:
        self.row(
            "account_snapshots",
            file,
            snapshot_date=day,
            account_id=account,
            account_type=type,
            follower_count=followers,
            short_video_commerce_enabled=enabled,
            is_shop_self_operated=self_op,
        )

    def enroll(
        self,
        account: str,
        at: str = "2025-11-20T10:00:00+08:00",
        via: str = "shop_account",
        file: str | None = None,
    ) -> None:
        self.row("enrollments", file, account_id=account, enrolled_at=at, enrolled_via=via)

    def video(
        self,
        video_id: str,
        account: str,
        published: str = noon("2025-07-15"),
        *,
        commerce: bool = True,
        deleted: str | None = None,
        file: str | None = None,
    ) -> None:
        self.row(
            "videos",
            file,
            video_id=video_id,
            account_id=account,
            published_at=published,
            is_commerce=commerce,
            deleted_at=deleted,
        )

    def account(
        self,
        account: str,
        *,
        type: str = "merchant",
        followers: int = 5000,
        enabled: bool = True,
        self_op: bool = False,
        enrolled_at: str | None = None,
        via: str | None = None,
    ) -> str:
        """An ordinary account: a snapshot on 2025-07-01, an enrollment on 2025-11-20 through the
        right channel and one commerce video `v-<account>` published 2025-07-15."""
        self.snapshot(account, type=type, followers=followers, enabled=enabled, self_op=self_op)
        self.enroll(
            account,
            at=enrolled_at or "2025-11-20T10:00:00+08:00",
            via=via or ("shop_account" if type == "merchant" else "channels_account"),
        )
        self.video(f"v-{account}", account)
        return f"v-{account}"

    def sale(
        self,
        account: str,
        created: str,
        amount: str,
        *,
        video: str | None = None,
        refunded: str = "0.00",
        status: str = "settled",
        settled: str | None = None,
        channel: str = "short_video",
        order_id: str | None = None,
        file: str | None = None,
    ) -> str:
        """An order's change log: a `paid` row at created, then its final state (if not paid)
        three days later unless `settled` says when. `created` is a day (Beijing noon) or an
        instant."""
        self._order_seq += 1
        oid = order_id or f"o-{account}-{self._order_seq}"
        created_at = noon(created) if len(created) == 10 else created
        video_id = (video or f"v-{account}") if channel == "short_video" else None
        base = dict(
            order_id=oid,
            account_id=account,
            channel=channel,
            video_id=video_id,
            created_at=created_at,
            amount=amount,
        )
        self.row(
            "orders",
            file,
            updated_at=created_at,
            refunded_amount="0.00",
            status="paid",
            settled_at=None,
            **base,
        )
        if status != "paid":
            final_at = settled or noon(plus_days(created_at[:10], 3))
            self.row(
                "orders",
                file,
                updated_at=final_at,
                refunded_amount=refunded,
                status=status,
                settled_at=final_at if status == "settled" else None,
                **base,
            )
        return oid

    def write(self, root: Path) -> Path:
        for dataset in COLUMNS:
            (root / dataset).mkdir(parents=True, exist_ok=True)
        for (dataset, file), rows in self.files.items():
            path = root / dataset / file
            csv_path = path.with_suffix(".csv.tmp") if file.endswith(".parquet") else path
            with open(csv_path, "w", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(COLUMNS[dataset])
                for r in rows:
                    writer.writerow([_text(r.get(c)) for c in COLUMNS[dataset]])
            if file.endswith(".parquet"):
                _csv_to_typed_parquet(csv_path, path, dataset)
                csv_path.unlink()
        return root


def _csv_to_typed_parquet(csv_path: Path, parquet_path: Path, dataset: str) -> None:
    """Parquet with the contract's Arrow types (timestamptz, decimal(18,2), bool, date)."""
    from orchestration.contract import DATASETS, STORAGE_TYPE

    casts = ", ".join(
        f"cast({c.name} as {STORAGE_TYPE[c.kind]}) as {c.name}" for c in DATASETS[dataset].columns
    )
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        f"copy (select {casts} from read_csv('{csv_path}', all_varchar = true)) "
        f"to '{parquet_path}' (format parquet)"
    )
    con.close()
