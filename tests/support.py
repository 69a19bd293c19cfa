"""Helpers the tests share: waiting on conditions with deadlines, finding a run's processes."""

import os
import time


def wait_until(condition, seconds, what):
    """Poll ``condition()`` until it returns something truthy (returned), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.02)


def supervisor_pids(run_id):
    """Pids of the processes supervising ``run_id`` (found by their command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().split(b"\0")
        except OSError:
            continue
        if b"amlocal._local.supervisor" in command and any(part.endswith(run_id.encode()) for part in command):
            found.append(int(entry))
    return found
