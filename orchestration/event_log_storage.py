"""Dagster's SQLite event log, keeping one connection per database instead of one per event.

Dagster's `SqliteEventLogStorage` creates a new SQLAlchemy engine and connection for every read
and write (NullPool). A `rewards` run stores about 630 events (some 150 asset checks, each
planned and evaluated and mirrored into the cross-run index), and that cost about 6 s of a run
on the rulebook fixture; with each database's engine kept, storing them costs about 1.5 s
(docs/decisions.md, D27). Each kept connection commits without waiting for the disk (SQLite's
`synchronous=NORMAL` in the WAL mode Dagster keeps these files in), and the index is asked for a
table only until it has been found. The files, their schema and the locking are Dagster's own:
the UI, the daemon and a plain `SqliteEventLogStorage` read the same history.

This is the one place the project reaches into Dagster's storage internals: `_connect`, the
context manager through which every read and write of `SqliteEventLogStorage` goes, `has_table`,
and the attributes they use. dagster is pinned exactly in pyproject.toml, and tests/test_instance.py
fails, naming what moved, when an upgrade changes them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log import SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

# Databases kept open at once: the index and the runs being written or read (the UI reads many
# runs' databases; the least recently used is closed first)
MAX_OPEN_DATABASES = 8
BUSY_TIMEOUT_SECONDS = 15  # as Dagster's own (SQLITE_BUSY_TIMEOUT_SECONDS)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with each shard's engine kept open (LRU-bounded)."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's own body, with a kept engine instead of a new one per call. The lock is held
        # for the whole block, so the one connection is never used by two threads at once.
        with self._db_lock:
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Dagster asks before storing every asset-check event whether the index has the checks'
        # table, opening a new engine each time (sometimes with `_db_lock` held, so not through
        # `_connect`); tables are never dropped but by `wipe`, so a table once found is kept
        if table_name not in self._tables_seen and super().has_table(table_name):
            self._tables_seen.add(table_name)
        return table_name in self._tables_seen

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _commit_without_fsync)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine  # now the most recently used
        while len(self._engines) > MAX_OPEN_DATABASES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    def _close_all(self) -> None:
        while self._engines:
            _, engine = self._engines.popitem()
            engine.dispose()

    def wipe(self) -> None:
        with self._db_lock:
            self._close_all()  # before the files go
            self._tables_seen.clear()
        super().wipe()

    def dispose(self) -> None:
        with self._db_lock:
            self._close_all()
        super().dispose()


def _commit_without_fsync(dbapi_connection, _record) -> None:
    """Dagster keeps its event logs in SQLite's write-ahead-log mode, where `synchronous=NORMAL`
    (SQLite's own advice for WAL) no longer syncs the disk at every commit, only at checkpoints.
    The database cannot be corrupted by a crash of the process or of the machine; a power cut
    can lose the last events written before it (docs/decisions.md, D27)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
