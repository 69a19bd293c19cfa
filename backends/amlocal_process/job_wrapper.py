"""The first process of a ``process`` backend job: it runs the script, and when the script
ends, ends everything the script started, then records how the script ended.

    python -m amlocal_process.job_wrapper EXIT_FILE -- PYTHON SCRIPT [ARGS...]

It is a session leader (the backend starts it in a new session) and a child subreaper: a
process the script starts and abandons (a daemon, a double fork, even one that calls setsid)
becomes its child instead of init's, so none outlives the run. SIGTERM (cancel, time limit)
ends the script and everything under it. Standard library only.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group still ends with the run
        pass


def _children(pid):
    found = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.update(int(child) for child in handle.read().split())
    except OSError:
        pass
    return found


def _end_descendants():
    """SIGKILL every process left under this one, until none is left (reaping them)."""
    me = os.getpid()
    for _ in range(100):
        try:
            os.killpg(os.getpgid(me), signal.SIGCONT)  # harmless; wakes stopped members
        except OSError:
            pass
        pending = set()
        frontier = _children(me)
        while frontier:
            pid = frontier.pop()
            if pid in pending:
                continue
            pending.add(pid)
            frontier |= _children(pid)
        for pid in pending:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                reaped, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if reaped == 0:
                break
        if not pending:
            return
        time.sleep(0.01)


def _write_exit(path, record):
    partial = f"{path}.partial"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(record, handle)
    os.replace(partial, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    exit_file, command = argv[0], argv[2:]
    _become_subreaper()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    stopping = []

    def on_term(signum, frame):
        stopping.append(signum)
        try:
            child.kill()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, on_term)
    code = child.wait()
    _end_descendants()
    record = {"exit_code": code if code >= 0 else 128 - code}
    if code < 0:
        record["signal"] = signal.Signals(-code).name
    if stopping:
        record["stopped"] = True
    _write_exit(exit_file, record)
    return record["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
