"""Nodes of a local compute target: ``max_nodes`` lock files, one held per running job.

A job takes any free slot (``flock``, non-blocking) and keeps it until it ends; a job whose
process dies frees its slot with it, so nothing stays reserved after a crash.
"""

import fcntl
import os
import time


class NodeSlots:
    def __init__(self, lock_dir, target_name, max_nodes):
        self.directory = lock_dir / target_name
        self.max_nodes = int(max_nodes)
        self._fd = None
        self.index = None

    def acquire(self, should_stop, poll_seconds=0.02):
        """Wait for a free node; returns its index, or None when ``should_stop()`` turned true."""
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            for index in range(self.max_nodes):
                fd = os.open(self.directory / f"node-{index}.lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self._fd, self.index = fd, index
                return index
            if should_stop():
                return None
            time.sleep(poll_seconds)

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
