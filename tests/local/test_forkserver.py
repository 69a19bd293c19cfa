"""The fork server a sweep's controller starts its children's supervisors with: each is a
detached process (its own session, not the caller's child) holding the lock it was handed,
writing to its run's log, that outlives the server and the caller; the server itself never
keeps a lock of the caller's."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from amlocal._local import liveness
from amlocal._local.forkserver import SupervisorForkServer

from support import wait_until

pytestmark = pytest.mark.skipif(not SupervisorForkServer.available(), reason="needs fork and SCM_RIGHTS")

CALLER = textwrap.dedent("""
    import os, sys, time
    from amlocal._local import liveness
    from amlocal._local.forkserver import SupervisorForkServer

    tmp = sys.argv[1]

    def entry(argv):  # stands for the supervisor's main: holds its lock until told to end
        lock = int(argv[argv.index("--lock-fd") + 1])
        print("started", argv[0], os.getpid(), os.getppid(), os.getsid(0), flush=True)
        while not os.path.exists(os.path.join(tmp, "end-" + argv[0])):
            time.sleep(0.02)
        os.close(lock)
        print("ended", argv[0], flush=True)

    own_lock = liveness.hold(os.path.join(tmp, "caller.lock"))
    server = SupervisorForkServer(entry, close=(own_lock,)).start()
    for name in ("first", "second"):
        lock = liveness.hold(os.path.join(tmp, name + ".lock"), wait=0)
        assert server.spawn([name, "--lock-fd", str(lock)], os.path.join(tmp, name + ".log"), tmp, [lock]) is True
        os.close(lock)
    print("server", server.pid, flush=True)
    if sys.argv[2] == "stop":
        server.stop()
        print("stopped", flush=True)
    time.sleep(60)
""")


def start_caller(tmp_path, mode):
    caller = subprocess.Popen([sys.executable, "-c", CALLER, str(tmp_path), mode], stdout=subprocess.PIPE, text=True)
    server = int(caller.stdout.readline().split()[1])
    if mode == "stop":
        assert caller.stdout.readline().strip() == "stopped"
    return caller, server


def started(tmp_path, name):
    log = tmp_path / f"{name}.log"
    text = log.read_text() if log.exists() else ""
    return text.split() if text.startswith("started") else None


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_forked_supervisor_holds_its_lock_detached_and_outlives_its_caller(tmp_path):
    caller, server = start_caller(tmp_path, "keep")
    try:
        for name in ("first", "second"):
            _, argument, pid, parent, session = wait_until(lambda: started(tmp_path, name), 30, f"{name}'s log")
            assert argument == name
            assert int(pid) not in (caller.pid, server)
            assert int(parent) not in (caller.pid, server)  # detached: not the caller's child, nor the server's
            # a session of its own: Ctrl-C in the caller's terminal does not reach it
            assert int(session) not in (os.getsid(caller.pid), os.getsid(0))
            assert liveness.is_held(tmp_path / f"{name}.lock")  # the lock handed over, held by the fork alone
        assert liveness.is_held(tmp_path / "caller.lock")
        caller.kill()  # the caller dies: its lock frees (the server never kept it), the server leaves
        caller.wait()
        wait_until(lambda: not liveness.is_held(tmp_path / "caller.lock"), 10, "the caller's lock to free")
        wait_until(lambda: not alive(server), 10, "the fork server to leave with its caller")
        first_pid = int(started(tmp_path, "first")[2])
        assert alive(first_pid) and liveness.is_held(tmp_path / "first.lock")
        (tmp_path / "end-first").touch()
        wait_until(lambda: "ended first" in (tmp_path / "first.log").read_text(), 30, "the first to end")
        wait_until(lambda: not liveness.is_held(tmp_path / "first.lock"), 10, "the first's lock to free")
    finally:
        (tmp_path / "end-first").touch()
        (tmp_path / "end-second").touch()
        if caller.poll() is None:
            caller.kill()
            caller.wait()


def test_stopping_the_server_leaves_what_it_started_running(tmp_path):
    caller, server = start_caller(tmp_path, "stop")
    try:
        wait_until(lambda: started(tmp_path, "second"), 30, "the second's log")
        assert not alive(server)
        assert liveness.is_held(tmp_path / "first.lock") and liveness.is_held(tmp_path / "second.lock")
    finally:
        for name in ("first", "second"):
            (tmp_path / f"end-{name}").touch()
        caller.send_signal(signal.SIGKILL)
        caller.wait()
    wait_until(lambda: not liveness.is_held(tmp_path / "second.lock"), 30, "the second to end")


def test_a_server_that_is_gone_starts_nothing_and_says_so(tmp_path):
    server = SupervisorForkServer(lambda argv: None).start()
    os.kill(server.pid, signal.SIGKILL)
    os.waitpid(server.pid, 0)  # gone for sure (reaped here: stop() below finds no child to wait for)
    lock = liveness.hold(tmp_path / "run.lock", wait=0)
    try:
        # False: nothing was sent (the caller starts a process itself); None: whether it started is unknown
        assert server.spawn(["run", "--lock-fd", str(lock)], tmp_path / "run.log", tmp_path, [lock]) in (False, None)
        assert server.spawn(["run", "--lock-fd", str(lock)], tmp_path / "run.log", tmp_path, [lock]) is False
    finally:
        os.close(lock)
        server.stop()
