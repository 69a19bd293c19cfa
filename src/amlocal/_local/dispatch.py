"""Handing runs to the processes that follow them.

A run is followed by at most one supervisor process at a time, which holds the run's
``supervisor.lock`` for as long as it lives. Whoever starts a supervisor takes that lock first
and passes it (and the run's node, when it has one) to the new process as inherited
descriptors, so there is no moment when a starting run looks unfollowed. A run's supervisor
prepares its environment (Starting, Preparing), then takes a node of its compute target; when
none is free the run waits Queued with no process of its own; the supervisor whose run frees a
node goes on with the oldest run queued for it (``take_next_queued``), else the workspace's
dispatcher (``dispatcher``) starts a supervisor for it once a node frees up. The dispatcher also starts
runs held back while too many prepare at once, and adopts runs whose supervisor died. Anyone
who reads a run that nobody follows starts the dispatcher again.
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


#: how long ``ensure_dispatcher`` retries the dispatcher's lock: a reader probing it holds it
#: for microseconds, another caller starting a dispatcher keeps it
DISPATCHER_HOLD_SECONDS = 0.05
#: supervisors preparing at once; more submitted runs wait NotStarted for the dispatcher, so a
#: burst of submissions costs a few processes, not one per run
MAX_PREPARING = 8

#: in a process that starts many supervisors (a sweep's controller): a ``SupervisorForkServer``
#: (``forkserver``) that starts them as forks of a ready process, sparing each run a Python
#: start and its imports; None: a new process each
_fork_server = None


def start_supervisors_with(server):
    """Start this process's supervisors through ``server`` from now on (None: new processes)."""
    global _fork_server
    _fork_server = server


def start_run(layout, run_id, history):
    """Start following a just-recorded run: its supervisor at once, unless too many runs are
    preparing already (then the dispatcher starts it soon)."""
    if preparing_count(layout, history) >= MAX_PREPARING or not spawn_supervisor(layout, run_id):
        ensure_dispatcher(layout)


def preparing_count(layout, history):
    """Runs whose supervisor is getting them ready (NotStarted, Starting, Preparing)."""
    count = 0
    for status in (statuses.NOT_STARTED, statuses.STARTING, statuses.PREPARING):
        count += sum(1 for r in history.list_runs(status=status) if liveness.is_held(layout.supervisor_lock(r["run_id"])))
    return count


def claim_node(layout, history, run_id, compute):
    """A node of ``compute`` for ``run_id`` now, or None when it must wait Queued: every node
    is busy, or an older run of the target waits first. A node found holding a run whose
    supervisor died is handed to a process that adopts that run."""
    if older_runs_wait(layout, history, run_id, compute["name"]):
        return None
    slot = slots_of(layout, compute).try_claim(run_id, lambda other: _has_ended(history, other))
    if slot is not None and slot.orphan is not None:
        spawn_supervisor(layout, slot.orphan, slot=slot, adopt=True)
        return None
    return slot


def ensure_followed(layout, run_id, status):
    """Called by readers of a run that has not ended: when no supervisor follows it, make sure
    the dispatcher runs (it starts queued runs and adopts orphaned ones)."""
    if not liveness.is_held(layout.supervisor_lock(run_id)):
        ensure_dispatcher(layout)


def ensure_dispatcher(layout):
    """Start the workspace's dispatcher unless one lives or is starting. The starter takes the
    dispatcher's lock and hands it to the new process, as ``spawn_supervisor`` does a run's:
    a new process takes a while to start, and every caller in that window would start its own."""
    if liveness.is_held(layout.dispatcher_lock):
        return
    lock = liveness.hold(layout.dispatcher_lock, wait=DISPATCHER_HOLD_SECONDS)
    if lock is None:
        return
    try:
        _spawn([DISPATCHER_MODULE, str(layout.root), "--lock-fd", str(lock)], layout.root / "dispatcher.log",
               layout.root, (lock,))
    finally:
        os.close(lock)


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
    backend = _backend_of(layout, run_id)
    started = False
    try:
        if _fork_server is not None and str(backend.get("target") or "").partition(":")[0] in sys.modules:
            started = _fork_server.spawn(arguments[1:], layout.supervisor_log(run_id), layout.run_dir(run_id),
                                         descriptors)
        if started is False:
            _spawn(arguments, layout.supervisor_log(run_id), layout.run_dir(run_id), descriptors, backend.get("root"))
    finally:
        os.close(lock)
        if slot is not None:
            os.close(slot.fd)
            slot.fd = None
    if started is None:  # the fork server went away mid-request: whether the run is followed, the dispatcher sees
        ensure_dispatcher(layout)
    return True


def _backend_of(layout, run_id):
    """The spec's "backend" ({"name", "target", "root"}), {} when unreadable."""
    try:
        backend = json.loads(layout.run_spec(run_id).read_text())["backend"]
        return backend if isinstance(backend, dict) else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


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


def take_next_queued(layout, history, target, freed=None):
    """For a process whose run just freed a node of ``target`` (``freed``: that node's Slot,
    still locked, or None): the oldest run queued for that target that no process follows, with
    a node and its lock taken for the caller, as ``(run id, lock descriptor, slot)``; None when
    none waits or it cannot be had now (the dispatcher then starts it, as always; ``freed`` is
    released then). The node is taken before the run's lock, in the dispatcher's order: a
    queued run whose lock is held is one being started, and the dispatcher goes on to younger
    runs only when no node is left for them. ``freed`` was never unlocked: the run gets it."""
    queued = sorted((r for r in history.list_runs(status=statuses.QUEUED) if r["compute_target"] == target
                     and not liveness.is_held(layout.supervisor_lock(r["run_id"]))),
                    key=lambda r: (r["created"], r["run_id"]))
    if not queued:
        if freed is not None:
            freed.release()
        return None
    run_id = queued[0]["run_id"]
    if freed is not None:
        slot = freed
        slot.assign(run_id)  # it stays locked: no other process can claim it, before or after
    else:
        try:
            compute = json.loads(layout.run_spec(run_id).read_text()).get("compute")
        except (OSError, ValueError, AttributeError):
            compute = None
        slot = claim_node(layout, history, run_id, compute) if compute else None
        if slot is None:
            ensure_dispatcher(layout)
            return None
    lock = liveness.hold(layout.supervisor_lock(run_id), wait=0)
    if lock is None:  # another process is starting it meanwhile
        slot.release()
        return None
    return run_id, lock, slot


def _has_ended(history, run_id):
    try:
        return history.get_run(run_id)["status"] in statuses.TERMINAL
    except Exception:  # a run that is gone has ended
        return True


def older_runs_wait(layout, history, run_id, target):
    """Whether a run of ``target`` submitted before ``run_id`` waits Queued for a node."""
    me = history.get_run(run_id)["created"]
    for record in history.list_runs(status=statuses.QUEUED):
        if record["compute_target"] == target and record["run_id"] != run_id and record["created"] <= me \
                and not liveness.is_held(layout.supervisor_lock(record["run_id"])):
            return True
    return False
