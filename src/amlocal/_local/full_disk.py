"""A full disk under the workspace: how a supervisor notices it and keeps going.

A job can fill the file system that holds AMLOCAL_HOME (its working directory lives there).
While it is full, the supervisor's writes fail: the run history waits for space (``_store``
in ``supervisor``), its own diagnostics are dropped rather than raised (``keep_going``), and
the run is marked as having seen a full disk (``nearly_full``), so it ends Failed with a
disk-space reason instead of Completed with records silently missing.
"""

import os
import sys

#: below this much free space the file system counts as full (a log line or a WAL page fails)
FULL_BELOW_BYTES = 1 << 20


def nearly_full(path):
    """Whether the file system holding ``path`` has (almost) no space left for the user."""
    try:
        info = os.statvfs(path)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < FULL_BELOW_BYTES


class _Tolerant:
    """A text stream whose failed writes (ENOSPC on a full disk) are dropped, not raised."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def keep_going():
    """Make this process's stdout and stderr (its log file) drop what a full disk refuses: a
    print or a traceback must never be what stops a supervisor from ending its run."""
    sys.stdout, sys.stderr = _Tolerant(sys.stdout), _Tolerant(sys.stderr)
