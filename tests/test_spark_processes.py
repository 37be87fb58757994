"""A cluster's PID file never gets another process killed (orchestration/spark/processes.py, D76).

No JVM needed: the recorded processes here are small Python processes of the test's own, whose
command lines either name the recorded main class and the cluster's properties file (ours) or
do not (a PID the system gave to someone else after the cluster was gone).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

from orchestration.spark.cluster import MASTER_CLASS
from orchestration.spark.processes import (
    RecordedProcess,
    hearing_stop_signals,
    read_pid_file,
    record,
    stop_recorded,
    write_pid_file,
)

SLEEPER = "import time; time.sleep(120)"


@pytest.fixture
def sleepers():
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        # hearing SIGTERM as the cluster's processes do (D96): under a pytest-xdist worker that
        # ignores it, a plain child would wait out stop_recorded's timeout before its SIGKILL
        command = [sys.executable, "-c", SLEEPER, *args]
        process = subprocess.Popen(hearing_stop_signals(command))
        started.append(process)
        deadline = time.monotonic() + 10
        while psutil.Process(process.pid).cmdline() != command:  # until the launcher's exec
            assert time.monotonic() < deadline, "the sleeper never started"
            time.sleep(0.01)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_a_stale_pid_file_never_signals_a_process_that_is_not_ours(sleepers, tmp_path):
    marker = str(tmp_path / "cluster" / "conf" / "spark-defaults.conf")
    stranger = sleepers()  # took the PID of a master that is gone
    reused = psutil.Process(stranger.pid)
    # the PID and even its start time as recorded: only the command line tells it apart
    stale = RecordedProcess(
        role="master",
        pid=stranger.pid,
        create_time=reused.create_time(),
        main_class=MASTER_CLASS,
        marker=marker,
        cmdline=("java", "-cp", "jars/*", MASTER_CLASS, "--properties-file", marker),
        log="master.log",
    )
    ours = sleepers(MASTER_CLASS, "--properties-file", marker)  # a master still running
    pid_file = tmp_path / "cluster" / "pids.json"
    write_pid_file(pid_file, [stale, record("master", ours.pid, MASTER_CLASS, marker, pid_file)])

    stopped = stop_recorded(list(reversed(read_pid_file(pid_file))), timeout=10)

    assert stopped == ["master"]  # ours, and only ours
    assert stranger.poll() is None  # never signalled
    assert not psutil.pid_exists(ours.pid)  # stopped (and reaped by psutil's wait)


def test_a_reused_pid_with_another_start_time_is_not_ours(sleepers, tmp_path):
    marker = str(tmp_path / "spark-defaults.conf")
    # even with our class and marker in its command line, a later start time is another process
    other = sleepers(MASTER_CLASS, marker)
    recorded = record("master", other.pid, MASTER_CLASS, marker, tmp_path / "m.log")
    earlier = RecordedProcess(**{**recorded.__dict__, "create_time": recorded.create_time - 60})
    assert stop_recorded([earlier], timeout=10) == []
    assert other.poll() is None


def test_an_unreadable_pid_file_signals_nothing(tmp_path):
    pid_file = tmp_path / "pids.json"
    pid_file.write_text("{not json")
    assert read_pid_file(pid_file) == []
    assert read_pid_file(tmp_path / "missing.json") == []


# `rewards spark` as a terminal runs it: Python's own SIGINT handler, in the main thread (a
# pytest-xdist worker ignores SIGINT, so the scenario runs in a process of its own). A thread
# blocked on a socket stands for dbt's thread waiting on the Thrift server; the stop closes the
# socket's other end, as stopping the cluster ends the server's side.
FIRST_CTRL_C = """
import json, os, signal, socket, threading

from orchestration.spark.build import interrupts_noted

signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the parent left us
before = signal.getsignal(signal.SIGINT)
ours, server_end = socket.socketpair()
answered = []
waiting = threading.Thread(target=lambda: answered.append(ours.recv(1).decode()), daemon=True)
waiting.start()
seen = {"stops": 0}


def stop():
    seen["stops"] += 1
    server_end.close()


try:
    with interrupts_noted(stop) as noted:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(5)  # the handler raises here, at once
            seen["first"] = "not raised"
        except KeyboardInterrupt:  # as dbt catches the first, to cancel its statements
            waiting.join(timeout=5)
            seen["first"] = "raised"
            seen["read_ended"] = not waiting.is_alive() and answered == [""]
            seen["stops_at_first"] = seen["stops"]
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C raises again
        threading.Event().wait(5)
        seen["second"] = "not raised"
except KeyboardInterrupt:
    seen["second"] = "raised"
seen["noted"] = len(noted)
seen["handler_restored"] = signal.getsignal(signal.SIGINT) is before
print(json.dumps(seen))
"""


def test_the_first_ctrl_c_of_a_spark_build_runs_its_stop_before_python_hears_of_it():
    """`rewards spark` on its own local cluster hands run_dbt_on_spark the cluster's stop, to
    run at the first Ctrl-C (D91): the statements running on the cluster end with it, where
    dbt's own cancellation waits for each one to finish (minutes at 10M orders). The stop runs
    once, before KeyboardInterrupt, and ends the blocked read; a second Ctrl-C raises again
    without a second stop; Python's handler is back after the block."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", FIRST_CTRL_C], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "stops": 1,
        "first": "raised",
        "read_ended": True,
        "stops_at_first": 1,
        "second": "raised",
        "noted": 2,
        "handler_restored": True,
    }


# the signals the child ignores: the hexadecimal SigIgn mask of its /proc status
SIGNALS_IGNORED = (
    "status = open('/proc/self/status').read().splitlines()\n"
    "print(next(line for line in status if line.startswith('SigIgn:')).split()[1])"
)
STOP_BITS = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))


def _ignored_by(command: list[str]) -> int:
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return int(done.stdout, 16)


def test_a_process_launched_where_sigterm_is_ignored_still_hears_it():
    """D96: a background job of a script ignores SIGINT, and Dagster's run then ignores SIGTERM
    as well; a child inherits both, and a JVM started so never hears a stop's SIGTERM (measured:
    still running 8 s after it, against exit 143 at once). The cluster's processes and submitted
    applications are launched through `hearing_stop_signals`, which gives both their default
    action back in the child (and changes nothing when neither is ignored)."""
    child = [sys.executable, "-c", SIGNALS_IGNORED]
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.getsignal(s) for s in stops}  # pytest may run as a background job
    try:
        for s in stops:
            signal.signal(s, signal.SIG_DFL)
        assert hearing_stop_signals(child) == child
        for s in stops:
            signal.signal(s, signal.SIG_IGN)
        inherited = _ignored_by(child)
        launched = _ignored_by(hearing_stop_signals(child))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert inherited & STOP_BITS == STOP_BITS
    assert launched & STOP_BITS == 0
