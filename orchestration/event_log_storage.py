"""Dagster's SQLite event log, keeping one connection per database instead of one per event.

Dagster's `SqliteEventLogStorage` creates a new SQLAlchemy engine and connection for every read
and write (NullPool). A `rewards` run stores about 630 events (some 150 asset checks, each
planned and evaluated and mirrored into the cross-run index), and that cost about 6 s of a run
on the rulebook fixture; with each database's engine kept, storing them costs about 1.5 s
(docs/decisions.md, D27). The files, their schema and the locking are Dagster's own: the UI,
the daemon and a plain `SqliteEventLogStorage` read the same history.

This is the one place the project reaches into Dagster's storage internals: `_connect`, the
context manager through which every read and write of `SqliteEventLogStorage` goes, and the
attributes it uses. dagster is pinned exactly in pyproject.toml, and tests/test_instance.py
fails, naming what moved, when an upgrade changes them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log import SqliteEventLogStorage
from sqlalchemy import create_engine
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

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
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
        super().wipe()

    def dispose(self) -> None:
        with self._db_lock:
            self._close_all()
        super().dispose()
