"""Handing runs to the processes that follow them.

Each run that has started (or could start) is followed by exactly one supervisor process,
which holds the run's ``supervisor.lock`` for as long as it lives. Whoever starts a supervisor
takes that lock first and passes it (and the run's node, when the run has a compute target)
to the new process as inherited descriptors, so there is no moment when a starting run looks
unfollowed. Runs waiting for a node have no process of their own: one dispatcher per
workspace (``dispatcher``) starts their supervisors as nodes free up, and adopts runs whose
supervisor died. Anyone who reads a run that nobody follows starts the dispatcher again.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from ..rules import statuses
from . import liveness
from .node_slots import NodeSlots

SUPERVISOR_MODULE = "amlocal._local.supervisor"
DISPATCHER_MODULE = "amlocal._local.dispatcher"


def start_run(layout, run_id, compute, history):
    """Start following a just-recorded run: its supervisor at once when it needs no node or a
    node is free and no older run of its target waits; else the dispatcher queues it."""
    if compute is None:
        spawn_supervisor(layout, run_id)
        return
    if not _older_runs_wait(layout, history, run_id, compute["name"]):
        slot = slots_of(layout, compute).try_claim(run_id, lambda other: _has_ended(history, other))
        if slot is not None and slot.orphan is None:
            if spawn_supervisor(layout, run_id, slot=slot):
                return
        elif slot is not None:
            spawn_supervisor(layout, slot.orphan, slot=slot, adopt=True)
    ensure_dispatcher(layout)


def ensure_followed(layout, run_id, status):
    """Called by readers of a run that has not ended: when no supervisor follows it, make sure
    the dispatcher runs (it starts queued runs and adopts orphaned ones)."""
    if not liveness.is_held(layout.supervisor_lock(run_id)):
        ensure_dispatcher(layout)


def ensure_dispatcher(layout):
    if liveness.is_held(layout.dispatcher_lock):
        return
    _spawn([DISPATCHER_MODULE, str(layout.root)], layout.root / "dispatcher.log", layout.root, ())


def slots_of(layout, compute):
    return NodeSlots(layout.compute_locks, compute["name"], compute["max_nodes"])


def spawn_supervisor(layout, run_id, slot=None, adopt=False):
    """Start the supervisor of ``run_id`` holding its lock (and ``slot``); False when another
    live process already follows the run (``slot`` is then released)."""
    lock = liveness.hold(layout.supervisor_lock(run_id), wait=0)
    if lock is None:
        if slot is not None:
            slot.release()
        return False
    arguments = [SUPERVISOR_MODULE, str(layout.run_dir(run_id)), "--lock-fd", str(lock)]
    descriptors = [lock]
    if slot is not None:
        arguments += ["--slot-dir", slot.directory, "--slot-index", str(slot.index), "--slot-fd", str(slot.fd)]
        descriptors.append(slot.fd)
    if adopt:
        arguments.append("--adopt")
    try:
        _spawn(arguments, layout.supervisor_log(run_id), layout.run_dir(run_id), descriptors,
               _backend_root(layout, run_id))
    finally:
        os.close(lock)
        if slot is not None:
            os.close(slot.fd)
            slot.fd = None
    return True


def _backend_root(layout, run_id):
    try:
        return json.loads(layout.run_spec(run_id).read_text())["backend"].get("root")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def import_root(module_name):
    """The directory from which ``module_name``'s top-level package (or module) is imported."""
    top = sys.modules.get(module_name.split(".")[0])
    if top is None or not getattr(top, "__file__", None):
        return None
    location = Path(top.__file__).resolve()
    return str(location.parents[1] if location.name == "__init__.py" else location.parent)


def _spawn(arguments, log_path, cwd, descriptors, backend_root=None):
    """A detached Python process (its own session: Ctrl-C in the submitter's terminal does not
    reach it) running ``-m arguments``, output appended to ``log_path``; amlocal and the run's
    backend (``backend_root``) importable in it as they are here."""
    env = dict(os.environ)
    roots = {str(Path(__file__).resolve().parents[2])} | ({backend_root} if backend_root else set())
    env["PYTHONPATH"] = os.pathsep.join([*sorted(roots), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
        subprocess.Popen([sys.executable, "-m", *arguments], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                         pass_fds=tuple(descriptors), env=env, cwd=str(cwd))


def _has_ended(history, run_id):
    try:
        return history.get_run(run_id)["status"] in statuses.TERMINAL
    except Exception:  # a run that is gone has ended
        return True


def _older_runs_wait(layout, history, run_id, target):
    """Whether another run of ``target`` waits for a node (queued, with no supervisor yet)."""
    for record in history.list_runs(status=statuses.QUEUED):
        if record["compute_target"] == target and record["run_id"] != run_id \
                and not liveness.is_held(layout.supervisor_lock(record["run_id"])):
            return True
    return False
