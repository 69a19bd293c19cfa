"""Helpers the tests share: waiting on conditions with deadlines, finding a run's processes."""

import errno
import os
import signal
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


def default_sigint():
    """A ``preexec_fn`` giving a command SIGINT's default handling, so Ctrl-C reaches it as from a
    terminal even when the tests run as a background job (whose processes start with it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def open_gate(fifo, seconds=60):
    """Let a job blocked reading the FIFO ``fifo`` (``open(fifo).read()``) go on: write to it
    once the job has it open. A job that waits at a gate runs exactly as long as a test wants."""
    def opened():
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno != errno.ENXIO:  # ENXIO: nobody reads it yet
                raise
            return None

    fd = wait_until(opened, seconds, f"a job to wait at its gate {fifo}")
    os.write(fd, b"go")
    os.close(fd)


def running_at_once(children):
    """The most children that were Running at the same moment (from their status timelines)."""
    spans = []
    for child in children:
        timeline = dict(child.get_details()["statusTimeline"])
        end = next((timeline[s] for s in ("Finalizing", "Completed", "Failed", "Canceled") if s in timeline), None)
        if "Running" in timeline and end:
            spans.append((timeline["Running"], end))
    return max((sum(1 for s, e in spans if s <= start < e) for start, _ in spans), default=0)
