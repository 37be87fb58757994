"""`rewards ui`: `dg dev` as a child process that this one stops, whole, on SIGTERM, Ctrl-C or
a closed terminal (D58).

`dg dev` runs a webserver, a daemon and a code server (itself a process that starts the code's
gRPC server and runs): seven processes in all. Left to themselves they do not stop reliably:
started in the background by a shell, a process ignores SIGINT, and Dagster maps SIGTERM to
whatever SIGINT does, so SIGTERM was ignored too; signalled all at once, `dg dev` restarts the
code server it sees exit; and the webserver waits for open browser connections. So `dg dev`
runs in a session of its own, with the default signal dispositions, and this process, on a stop
signal, asks it to shut down as Ctrl-C would (SIGINT to it alone), then stops what is left of
its processes: SIGTERM, then SIGKILL, all within STOP_SECONDS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

# dg dev's own shutdown (webserver, daemon, code server) takes 2-6 s on a quiet 2-core machine;
# what is left then gets SIGTERM, then SIGKILL: the whole stays within STOP_SECONDS with a
# margin for a machine so busy that this process itself waits for a core
GRACE_SECONDS = 5.0
TERM_SECONDS = 1.5
STOP_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_dg_dev(argv: Sequence[str], env: Mapping[str, str], cwd: Path, say) -> int:
    """Run `argv` (dg dev) until it exits (its exit code) or this process is asked to stop
    (SIGINT, SIGTERM, SIGHUP: then 0 once every process of it has ended). `say` prints one line
    for the operator."""
    requested: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        requested.append(signum)  # acted on by the loop below, never in the middle of a call

    # Handlers of our own (not an inherited SIG_IGN): a child starts with the defaults again, so
    # dg dev's processes take SIGINT and SIGTERM as Ctrl-C
    previous = {signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        child = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, start_new_session=True)
        while not requested:
            try:
                return child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
        _say(say, f"{signal.Signals(requested[0]).name}: stopping the Dagster UI (dg dev)")
        killed = stop_process_tree(child)
        _say(
            say,
            "Dagster UI stopped"
            + (f" ({killed} process(es) killed after the grace period)" if killed else ""),
        )
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _say(say, line: str) -> None:
    try:
        say(line)
    except OSError:  # the terminal is gone (SIGHUP)
        pass


def stop_process_tree(child: subprocess.Popen) -> int:
    """Stop `child` (the leader of its own process group) and every process it started: SIGINT
    to `child`; once it has exited (at most GRACE_SECONDS), SIGTERM to whatever is left of its
    descendants and its process group, which nothing else will stop now; TERM_SECONDS later,
    SIGKILL. Returns how many had to be killed."""
    started = time.monotonic()
    known: dict[int, psutil.Process] = {}

    def alive() -> list[psutil.Process]:
        # its descendants as they are now (an orphan stays known: its parent may exit first)
        # and whatever else is in its process group
        try:
            leader = psutil.Process(child.pid)
            for process in [leader, *leader.children(recursive=True)]:
                known.setdefault(process.pid, process)
        except psutil.NoSuchProcess:
            pass
        for process in psutil.process_iter():
            try:
                if os.getpgid(process.pid) == child.pid:
                    known.setdefault(process.pid, process)
            except (OSError, psutil.Error):
                continue
        return [process for process in known.values() if _running(process)]

    def left_at(deadline: float, or_when_child_exits: bool = False) -> list[psutil.Process]:
        while True:
            exited = child.poll() is not None  # reaps dg dev as soon as it exits
            left = alive()
            if not left or time.monotonic() >= deadline or (or_when_child_exits and exited):
                return left
            time.sleep(0.1)

    alive()
    child.send_signal(signal.SIGINT)  # dg dev's own shutdown, as on Ctrl-C
    left = left_at(started + GRACE_SECONDS, or_when_child_exits=True)
    _send(left, signal.SIGTERM)  # Dagster's processes take it as Ctrl-C too
    killed = left_at(time.monotonic() + TERM_SECONDS)
    _send(killed, signal.SIGKILL)
    psutil.wait_procs(killed, timeout=max(0.1, STOP_SECONDS - (time.monotonic() - started)))
    child.wait(timeout=max(0.1, STOP_SECONDS - (time.monotonic() - started)))
    return len(killed)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _send(processes: list[psutil.Process], signum: int) -> None:
    for process in processes:
        try:
            process.send_signal(signum)  # psutil checks the pid is still that process
        except psutil.NoSuchProcess:
            continue
