"""A cluster's PID file never gets another process killed (orchestration/spark/processes.py, D76).

No JVM needed: the recorded processes here are small Python processes of the test's own, whose
command lines either name the recorded main class and the cluster's properties file (ours) or
do not (a PID the system gave to someone else after the cluster was gone).
"""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from orchestration.spark.cluster import MASTER_CLASS
from orchestration.spark.processes import (
    RecordedProcess,
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
        process = subprocess.Popen([sys.executable, "-c", SLEEPER, *args])
        started.append(process)
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


def test_the_first_ctrl_c_of_a_spark_build_runs_its_stop_before_python_hears_of_it():
    """`rewards spark` on its own local cluster hands run_dbt_on_spark the cluster's stop, to
    run at the first Ctrl-C (docs/spark.md): the statements running on the cluster then end with
    it, where dbt's own cancellation waits for each one to finish (minutes at 10M orders). Here
    a thread blocked on a socket stands for dbt's thread waiting on the Thrift server, and the
    stop closes the socket's other end."""
    import os
    import signal
    import socket
    import threading

    from orchestration.spark.build import interrupts_noted

    before = signal.getsignal(signal.SIGINT)
    ours, server_end = socket.socketpair()
    answered: list[bytes] = []
    waiting = threading.Thread(target=lambda: answered.append(ours.recv(1)))
    waiting.start()
    stops: list[str] = []

    def stop() -> None:
        stops.append("stopped")
        server_end.close()

    with pytest.raises(KeyboardInterrupt):
        with interrupts_noted(stop) as noted:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                threading.Event().wait(5)  # the handler raises here, at once
            except KeyboardInterrupt:  # as dbt catches the first, to cancel its statements
                waiting.join(timeout=5)
                assert not waiting.is_alive() and answered == [b""]  # ended: the end closed
                assert stops == ["stopped"]
            # a second Ctrl-C raises again, and does not stop a second time
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(5)
    assert stops == ["stopped"] and noted == [signal.SIGINT, signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is before  # Python's own handler again
    ours.close()
