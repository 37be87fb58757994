"""The project's one file lock (orchestration/file_lock.py), under the warehouse lock and dbt's
parse: exclusive while held, a bounded wait ends in TimeoutError, and the waiter is told."""

from __future__ import annotations

import pytest

from orchestration.file_lock import FileLock


def test_a_held_lock_keeps_a_second_holder_waiting_until_it_is_released(tmp_path):
    path = tmp_path / "sub" / "x.lock"
    first = FileLock(path)
    first.acquire()
    assert path.exists() and first.file is not None
    waits = []
    second = FileLock(path)
    with pytest.raises(TimeoutError, match="x.lock is locked"):
        second.acquire(wait_seconds=0.6, on_wait=lambda: waits.append(1))
    assert waits == [1]  # told once when the wait began (every 60 s after)
    assert second.file is None
    first.release()
    first.release()  # twice is harmless
    with second:
        assert second.file is not None
        with pytest.raises(TimeoutError):
            FileLock(path).acquire(wait_seconds=0)
    assert second.file is None
    FileLock(path).acquire(wait_seconds=0)  # free again
