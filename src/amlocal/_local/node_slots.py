"""Nodes of a local compute target: ``max_nodes`` slots, each one a lock file.

``node-<i>.lock`` is held (flock) by the process in charge of the run on that node, and
``node-<i>.json`` names that run. A slot whose lock is free but whose named run has not ended
is not free: the process in charge died while the job may still run, so whoever finds it must
adopt that run (follow its job to the end, collect its outputs) before the node serves another
run. Nothing stays reserved after a crash, and no job starts beside one that still runs.
A claimed slot is passed to the process that will own it as an inherited file descriptor.
"""

import fcntl
import json
import os
from dataclasses import dataclass


@dataclass
class Slot:
    """A locked node: ``fd`` holds the lock. ``orphan`` names a run left on it by a dead
    process (the caller must adopt it); otherwise the node is now ``run_id``'s."""
    directory: str
    index: int
    fd: int
    orphan: str = None

    def assign(self, run_id):
        """The node, still locked, is ``run_id``'s now."""
        _write_occupant(self.directory, self.index, run_id)

    def release(self):
        """Free the node: forget its run, then unlock."""
        if self.fd is None:
            return
        try:
            _write_occupant(self.directory, self.index, None)
        finally:
            os.close(self.fd)
            self.fd = None


class NodeSlots:
    def __init__(self, lock_dir, target_name, max_nodes):
        self.directory = os.path.join(str(lock_dir), target_name)
        self.max_nodes = int(max_nodes)

    def occupants(self):
        """{index: run id} as recorded (whether or not their process lives)."""
        found = {}
        for index in range(self.max_nodes):
            occupant = _read_occupant(self.directory, index)
            if occupant:
                found[index] = occupant
        return found

    def try_claim(self, run_id, has_ended):
        """Claim a free node for ``run_id`` without waiting. Returns a Slot (possibly with an
        ``orphan`` to adopt first), or None when every node is busy. ``has_ended(run_id)``
        says whether a recorded run is over."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        for index in range(self.max_nodes):
            fd = _try_lock(self.directory, index)
            if fd is None:
                continue
            occupant = _read_occupant(self.directory, index)
            if occupant and occupant != run_id and not has_ended(occupant):
                return Slot(self.directory, index, fd, orphan=occupant)
            _write_occupant(self.directory, index, run_id)
            return Slot(self.directory, index, fd)
        return None

    def claim_own(self, run_id):
        """Lock the node recorded as ``run_id``'s (to adopt that run); None when it is not
        recorded or its lock is held."""
        for index, occupant in self.occupants().items():
            if occupant == run_id:
                fd = _try_lock(self.directory, index)
                return None if fd is None else Slot(self.directory, index, fd)
        return None


def adopt_slot(directory, index, fd):
    """The Slot of an inherited, already locked descriptor."""
    return Slot(directory, int(index), int(fd))


def _lock_path(directory, index):
    return os.path.join(directory, f"node-{index}.lock")


def _occupant_path(directory, index):
    return os.path.join(directory, f"node-{index}.json")


def _try_lock(directory, index):
    fd = os.open(_lock_path(directory, index), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_occupant(directory, index):
    try:
        with open(_occupant_path(directory, index)) as handle:
            return json.load(handle).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None


def _write_occupant(directory, index, run_id):
    path = _occupant_path(directory, index)
    partial = path + ".partial"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump({"run_id": run_id} if run_id else {}, handle)
    os.replace(partial, path)
