"""The cluster's processes, recorded in a PID file and stopped by PID only (docs/decisions.md D76).

A PID is signalled only while the live process is still the one recorded: the same start time
and a command line that names the recorded role's main class and the cluster's own properties
file. A stale file whose PID now belongs to someone else (the machine rebooted, the PID was
reused) therefore never kills that process. Every process is stopped with SIGTERM, then SIGKILL
after a timeout, and so are the descendants it had (a worker's executors), which were ours
because their parent was.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

STOP_TIMEOUT_SECONDS = 20.0

# A child inherits the signals its parent ignores, and a JVM that starts with SIGTERM ignored
# never installs its handler: it would outlive every SIGTERM of a stop. A background job of a
# script starts with SIGINT ignored, and Dagster's run then ignores SIGTERM too (D96).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_DEFAULT_SIGNALS_THEN_EXEC = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_DFL)\n"
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def hearing_stop_signals(command: Sequence[str]) -> list[str]:
    """`command` (its program an absolute path), started so that it hears SIGINT and SIGTERM:
    as it is when this process ignores neither, else through a Python that puts both back to
    their default action and execs it in the same PID (D96)."""
    if not any(signal.getsignal(s) == signal.SIG_IGN for s in _STOP_SIGNALS):
        return list(command)
    return [sys.executable, "-I", "-S", "-c", _DEFAULT_SIGNALS_THEN_EXEC, *command]


def _cmdline(process: psutil.Process) -> list[str]:
    """The process's command line. Just after an exec, /proc shows it empty for a moment: read
    again for up to a second before taking it as empty."""
    deadline = time.monotonic() + 1.0
    while True:
        cmdline = process.cmdline()
        if cmdline or time.monotonic() > deadline:
            return cmdline
        time.sleep(0.01)


@dataclass(frozen=True)
class RecordedProcess:
    role: str  # "master", "worker-1", "thrift-server", ...
    pid: int
    create_time: float  # psutil's: with the PID, the process's identity
    main_class: str  # the JVM class it runs; in its command line from launch to exit
    marker: str  # the cluster's properties file: in its command line from launch to exit
    cmdline: tuple[str, ...]
    log: str

    def live(self) -> psutil.Process | None:
        """The process, if the one recorded is still running (not a zombie), else None."""
        try:
            process = psutil.Process(self.pid)
            if abs(process.create_time() - self.create_time) > 0.01:
                return None
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            cmdline = _cmdline(process)
        except psutil.Error:
            return None
        if not any(self.main_class in arg for arg in cmdline):
            return None
        if not any(self.marker in arg for arg in cmdline):
            return None
        return process


def record(role: str, pid: int, main_class: str, marker: str, log: Path) -> RecordedProcess:
    """The record of the process `pid` just started: its start time and command line now."""
    process = psutil.Process(pid)
    return RecordedProcess(
        role=role,
        pid=pid,
        create_time=process.create_time(),
        main_class=main_class,
        marker=marker,
        cmdline=tuple(_cmdline(process)),
        log=str(log),
    )


def refreshed(recorded: RecordedProcess) -> RecordedProcess:
    """The record with the live command line (spark-class execs the JVM in the same PID)."""
    process = recorded.live()
    if process is None:
        return recorded
    try:
        cmdline = tuple(_cmdline(process))
    except psutil.Error:
        return recorded
    return RecordedProcess(**{**asdict(recorded), "cmdline": cmdline})


def write_pid_file(path: Path, processes: Sequence[RecordedProcess]) -> None:
    """All records, written whole and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps([asdict(p) for p in processes], indent=1) + "\n")
    partial.replace(path)


def read_pid_file(path: Path) -> list[RecordedProcess]:
    """The records of `path`; none when it is missing or unreadable (nothing is signalled)."""
    try:
        rows = json.loads(path.read_text())
        return [RecordedProcess(**{**row, "cmdline": tuple(row["cmdline"])}) for row in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _terminate(processes: Sequence[psutil.Process], timeout: float) -> None:
    """SIGTERM each, wait up to `timeout` for all, SIGKILL what is left and wait for it (which
    also reaps a child of this process)."""
    for process in processes:
        try:
            process.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=timeout)


def stop_recorded(processes: Sequence[RecordedProcess], timeout: float = STOP_TIMEOUT_SECONDS):
    """Stop, all at once, the recorded processes that are still the ones recorded, each with
    its descendants; returns the roles it signalled."""
    live = [(r, r.live()) for r in processes]
    live = [(r, p) for r, p in live if p is not None]
    children = [c for _, p in live for c in _descendants(p)]
    _terminate([p for _, p in live], timeout)
    # what their descendants left: a worker's executors end with it, or are made to
    _terminate([c for c in children if c.is_running()], timeout)
    return [r.role for r, _ in live]


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C does not cut a stop short: SIGINT is ignored while the block runs (in the main
    thread; elsewhere the block simply runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
