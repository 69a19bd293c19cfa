"""Is the process in charge of something still alive? An advisory lock (flock) on a file says
so: the process holds it for as long as it lives, and the kernel drops it the moment the
process dies, however it dies. Unlike a pid, a lock is true from any PID namespace on this
host (a devcontainer, a shared home) and cannot be mistaken for a reused pid."""

import fcntl
import os
import time

#: how long ``hold`` retries: a reader probing the lock holds it for microseconds
HOLD_RETRY_SECONDS = 1.0


def hold(path, wait=HOLD_RETRY_SECONDS):
    """Take the lock at ``path`` for this process and keep it (returns the descriptor, which
    must stay open), or None when another live process holds it."""
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.01)


def is_held(path):
    """Whether a live process holds the lock at ``path`` (False when the file does not exist)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
