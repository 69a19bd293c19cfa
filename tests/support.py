"""Helpers the tests share: waiting on conditions with deadlines, finding a run's processes."""

import time

from amlocal.testing import supervisor_pids  # noqa: F401  (tests import it from here)


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
