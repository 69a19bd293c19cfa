"""The detached process that takes one local run through its phases.

    python -m amlocal._local.supervisor RUN_DIR --lock-fd N [--slot-dir D --slot-index I --slot-fd N] [--adopt]

Starting (this process has the run) -> Preparing (the backend builds or reuses the environment;
the build log is a run log) -> Queued when every node of the run's compute target is taken (the
process then exits; the process whose run frees a node goes on with the oldest queued run, or
the dispatcher starts a new one) -> Running (the job;
its events become metrics, tags and files as they arrive) -> Finalizing (./outputs and ./logs
into run history) -> Completed, Failed or Canceled: the order Azure ML documents for AmlCompute. Whatever
goes wrong ends the run Failed with the reason and the tail of the relevant log; outputs
written before a failure are still collected. It is given, as inherited descriptors, the run's
``supervisor.lock`` (which says it lives) and the node of the run's compute target.

With ``--adopt`` it takes over a run whose supervisor died: it finds the job again (from
``job.json``), follows it to its end and finishes the run as its first supervisor would have.

It needs only ``spec.json``: the backend class, the WorkspaceInfo and the RunSpec are there.
"""

import argparse
import errno
import json
import os
import shutil
import signal
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

from .._config import cache_dir
from .._runtime import UPLOADS_DIR, job_shim_dir
from ..exceptions import BackendUnavailableError, EnvironmentBuildError, StoreFullError
from ..rules import statuses
from ..rules.paths import contained, copy_tree_under
from ..specs import EnvironmentSpec, RunSpec, WorkspaceInfo
from .events import EventReader, copy_uploads
from .full_disk import keep_going, nearly_full
from ..snapshot import materialize
from .job import DataPath, Job, PreparationCanceled
from . import dispatch
from .dispatch import claim_node, ensure_dispatcher, take_next_queued
from .forkserver import SupervisorForkServer
from .node_slots import adopt_slot
from .resources import DEFAULT_PIDS_LIMIT, limits_for
from .run_history import BUILD_LOG, CONTROL_LOG, DRIVER_LOG, SWEEP_LOG, tail
from .run_warnings import RunWarnings

LOG_TAIL_LINES = 30
CANCEL_CHECK_SECONDS = 0.2
DISK_CHECK_SECONDS = 0.5
DISK_RETRY_SECONDS = (0.5, 1, 2, 5)


class RunEnded(Exception):
    """The run reached a final status while this process still worked on it (a cancel)."""


class LazyLog:
    """A log file created on first write, so a cache hit leaves no empty build log behind."""

    def __init__(self, path):
        self.path = path
        self._handle = None

    def write(self, text):
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")
        self._handle.write(text)
        self._handle.flush()

    def flush(self):
        pass

    def close(self):
        if self._handle is not None:
            self._handle.close()


def load_backend_class(target):
    module_name, _, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)


class Supervisor:
    def __init__(self, run_dir, slot=None, adopt=False):
        self.run_dir = Path(run_dir)
        self.description = json.loads((self.run_dir / "spec.json").read_text())
        workspace = WorkspaceInfo.from_dict(self.description["workspace"])
        backend_class = load_backend_class(self.description["backend"]["target"])
        stores = backend_class.open_stores(workspace)
        self.backend = backend_class(workspace, stores)
        self.history = stores.run_history
        self.layout = stores.layout
        self.run_id = self.description["run_id"]
        self.spec = RunSpec.from_dict(self.description["run"])
        self.environment = EnvironmentSpec.from_dict(self.description["environment"])
        self.compute = self.description.get("compute")
        self.files = self.layout.run_files(self.run_id)
        self.control_dir = self.layout.run_control(self.run_id)
        self.slot = slot
        self.keep_node = False  # run(keep_node=True): the node stays locked in freed_slot at the end
        self.freed_slot = None
        self.adopting = adopt
        self.execution = None
        self.cancel_requested = False
        self.timed_out = False
        self.disk_was_full = False
        self._last_cancel_check = 0.0
        self._last_disk_check = 0.0
        self._control_log = LazyLog(self.files / CONTROL_LOG)
        self._warnings = RunWarnings(self.layout.run_warnings(self.run_id))
        self._events = None
        self._leave_queued = False

    # -- helpers -----------------------------------------------------------------------------
    def log(self, message):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        try:
            self._control_log.write(f"[{stamp}Z] {message}\n")
        except OSError:  # a full disk must not stop the run from ending properly
            print(f"[{stamp}Z] {message}", flush=True)

    def warn(self, kind, message):
        """A warning of the run: a line of its control log (``kind: message``) and one of the
        warnings its details list, as Azure ML lists a run's warnings."""
        self.log(f"{kind}: {message}")
        try:
            self._warnings.add(message)
        except OSError:  # a full disk: the control log (or the supervisor's log) has it
            pass

    def _store(self, write, *args):
        """A run history write that waits out a full disk instead of crashing the run."""
        for attempt in range(10 ** 9):
            try:
                return write(*args)
            except StoreFullError as err:
                if not self.disk_was_full:
                    print(f"amlocal: {err} Waiting for free space to record the run.", flush=True)
                self.disk_was_full = True
                time.sleep(DISK_RETRY_SECONDS[min(attempt, len(DISK_RETRY_SECONDS) - 1)])

    def set_status(self, status, error=None):
        recorded = self._store(self.history.set_status, self.run_id, status, error)
        if recorded:
            self.log(f"Status: {status}")
        elif status not in statuses.TERMINAL:
            if self.history.get_run(self.run_id)["status"] in statuses.TERMINAL:
                raise RunEnded()
            self.cancel_requested = True  # its cancel was requested: go on to stop the job properly
        return recorded

    def _on_sigterm(self, signum, frame):
        self.cancel_requested = True

    def should_stop(self):
        now = time.monotonic()
        if not self.cancel_requested and now - self._last_cancel_check > CANCEL_CHECK_SECONDS:
            self._last_cancel_check = now
            try:
                self.cancel_requested = self.history.cancel_requested(self.run_id)
            except Exception:  # an unreadable store says nothing about a cancel
                pass
        return self.cancel_requested

    # -- the phases --------------------------------------------------------------------------
    def run(self, keep_node=False):
        """Follow the run to its end. With ``keep_node``, the node it ran on stays locked in
        ``freed_slot`` (None when it had none), for the caller to hand to a queued run or release."""
        signal.signal(signal.SIGTERM, self._on_sigterm)
        self.keep_node = keep_node
        try:
            if self.history.get_run(self.run_id)["status"] in statuses.TERMINAL:
                return
            if self.adopting:
                self._adopt()
            else:
                self._phases()
        except RunEnded:
            self.log("The run was ended from outside (canceled) while it was being prepared; stopping.")
        except PreparationCanceled:
            self._end_canceled()
        except EnvironmentBuildError as err:
            self._fail(f"Preparing the environment failed: {err}", "EnvironmentBuildFailed",
                       err.log_tail or tail(self.files / BUILD_LOG, LOG_TAIL_LINES))
        except BackendUnavailableError as err:
            self._fail(str(err), "BackendUnavailable", tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))
        except Exception as err:  # the run must end; the traceback goes to supervisor.log
            traceback.print_exc()
            self._fail(f"amlocal could not run the job: {type(err).__name__}: {err}", "SystemError",
                       tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))
        finally:
            self._stop_leftover_job()
            self._collect()
            self._release_execution()
            self._release_slot()
            self._control_log.close()

    def _stop_leftover_job(self):
        """A job still running when the run ends on an error is stopped, never left behind."""
        if self.execution is None:
            return
        try:
            if self.execution.wait(0) is None:
                self.execution.stop()
                self.execution.wait(30)
        except Exception:
            traceback.print_exc()

    def _phases(self):
        queued = self.history.get_run(self.run_id)["status"] == statuses.QUEUED
        if not queued:
            for warning in self.description.get("snapshot_warnings") or []:
                self.warn("Snapshot", warning)
        if self.should_stop():
            return self._end_canceled()
        self.backend.warm_up()
        self.reach(statuses.STARTING)
        self.reach(statuses.PREPARING)
        # a queued run's environment was prepared before it queued: this finds it again (a cache hit)
        build_log = LazyLog(self.files / BUILD_LOG)
        try:
            prepared = self.backend.prepare_environment(self.environment, build_log, self.should_stop)
        finally:
            build_log.close()
        for warning in prepared.get("warnings") or []:
            self.warn("Environment", warning)
        if self.should_stop():
            return self._end_canceled()
        if self.compute and self.slot is None:
            self.slot = claim_node(self.layout, self.history, self.run_id, self.compute)
            if self.slot is None:  # wait Queued with no process; the dispatcher resumes the run
                self.reach(statuses.QUEUED)
                self.log(f"Waiting for a free node of {self.compute['name']} (max_nodes={self.compute['max_nodes']})")
                self._leave_queued = True
                return None
        if self.slot is not None:
            self.log(f"Running on node {self.slot.index} of {self.compute['name']} "
                     f"(max_nodes={self.compute['max_nodes']})")
        job = self._job(create=True)
        self.execution = self.backend.launch(prepared, job, self._record_handle)
        self.set_status(statuses.RUNNING)
        self._finish(self._follow())

    def reach(self, status):
        """Move the run to ``status`` unless it is there or past it already (a resumed run)."""
        if not statuses.is_past(self.history.get_run(self.run_id)["status"], status):
            self.set_status(status)

    def _adopt(self):
        self.log(f"The run's supervisor ended; this process (pid {os.getpid()}) adopts the run.")
        try:
            handle = json.loads(self.layout.job_handle(self.run_id).read_text())
        except (OSError, ValueError):
            handle = None
        status = self.history.get_run(self.run_id)["status"]
        if handle is None and self.history.cancel_requested(self.run_id):
            return self._end_canceled()
        if handle is None:
            return self._fail(f"The run's supervisor process ended while the run was {status}, before its job "
                              f"started; the run cannot go on. See {self.layout.supervisor_log(self.run_id)}.",
                              "SupervisorDied", tail(self.layout.supervisor_log(self.run_id), LOG_TAIL_LINES))
        self.execution = self.backend.reattach(handle, self._job(create=False))
        if self.execution is None:
            return self._fail(f"The run's supervisor process ended while the run was {status}, and its job is gone "
                              "(removed from outside amlocal?). Outputs it left were collected.", "SupervisorDied",
                              tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))
        self.log(f"Found the run's job again ({handle}); following it to its end.")
        self._finish(self._follow())

    def _finish(self, exit_info):
        self.set_status(statuses.FINALIZING)
        self._collect()
        self._release_execution()
        limit = self.spec.max_run_duration_seconds
        if self.cancel_requested:
            self._end_canceled()
        elif self.timed_out:  # Azure ML cancels a run that outlives max_run_duration_seconds
            self.set_status(statuses.CANCELED, statuses.run_error(
                f"The run exceeded max_run_duration_seconds ({limit}) and was canceled.", "RunTimeout",
                tail(self.files / DRIVER_LOG, LOG_TAIL_LINES)))
        elif self.disk_was_full:
            self._fail("The disk holding the workspace filled up while the run ran, so what it recorded may be "
                       "incomplete. Free space (`amlocal gc`), then run it again.", "DiskFull",
                       tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))
        elif exit_info.exit_code == 0:
            self.set_status(statuses.COMPLETED)
        else:
            self._fail(self._failure_message(exit_info), "OutOfMemory" if exit_info.oom_killed else "UserError",
                       tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))

    def _record_handle(self, handle):
        path = self.layout.job_handle(self.run_id)
        partial = path.with_name("job.json.partial")
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            json.dump(handle, out)
        os.replace(partial, path)

    def _job(self, create):
        workdir = self.layout.run_workdir(self.run_id)
        if create:
            user = self.backend.job_user()
            # hard links to the read-only store only when the job runs as another user, who
            # cannot write through them; else writable copies
            materialize(self.layout.run_snapshot(self.run_id), workdir, link=user is not None and user[0] != os.getuid(),
                        owner=user if user is not None and os.getuid() == 0 else None)
            (self.control_dir / UPLOADS_DIR).mkdir(parents=True, exist_ok=True)
        arguments = tuple(a if isinstance(a, str) else self._data_path(a, workdir, create) for a in self.spec.arguments)
        vm_size = self.compute["vm_size"] if self.compute else None
        cpus, memory = limits_for(vm_size)
        return Job(run_id=self.run_id, experiment=self.spec.experiment, workdir=workdir, control_dir=self.control_dir,
                   script=self.spec.script, arguments=arguments,
                   environment_variables=dict(self.environment.environment_variables),
                   driver_log=self.files / DRIVER_LOG, cpus=cpus, memory_bytes=memory,
                   pids_limit=DEFAULT_PIDS_LIMIT, network=self.spec.network,
                   labels={"amlocal.run_id": self.run_id, "amlocal.workspace": self.backend.workspace.name,
                           "amlocal.home": self.backend.home_id})

    def _data_path(self, reference, workdir, create):
        source = self.backend.stores.datastores.host_path(reference.datastore, reference.path_on_datastore)
        if reference.mode != "download":
            return DataPath(source, "mount")
        name = reference.path_on_compute or reference.path_on_datastore or reference.datastore
        target = contained(workdir, name.replace("\\", "/").strip("/"), "path_on_compute")
        if create:
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            self._give_to_job(workdir, target)
            self.log(f"Downloaded {reference.datastore}/{reference.path_on_datastore} to {name}")
        return DataPath(target, "download")

    def _give_to_job(self, workdir, target):
        """A job that runs as another user (amlocal running as root) owns what was put in its
        working directory for it, as it owns the snapshot's copy there."""
        user = self.backend.job_user()
        if user is None or os.getuid() != 0 or user[0] == 0:
            return
        made = [p for p in target.parents if workdir in p.parents]
        for directory, _, names in os.walk(target) if target.is_dir() else ():
            made += [Path(directory), *(Path(directory) / n for n in names)]
        for path in [*made, target]:
            os.chown(path, *user, follow_symlinks=False)

    def _follow(self):
        limit = self.spec.max_run_duration_seconds
        deadline = time.monotonic() + limit if limit else None
        stopping = False
        while True:
            exit_info = self.execution.wait(0.1)
            self._check_disk()
            self._ingest()
            if exit_info is not None:
                return exit_info
            if not stopping and self.should_stop():
                self.log("Cancel requested: stopping the job")
                self.execution.stop()
                stopping = True
            if not stopping and deadline and time.monotonic() > deadline:
                self.timed_out = True
                self.log("max_run_duration_seconds reached: stopping the job")
                self.execution.stop()
                stopping = True

    def _check_disk(self):
        """Notice a full disk even when no run history write failed (the driver log's lines
        are lost then): the run cannot be recorded whole."""
        now = time.monotonic()
        if now - self._last_disk_check < DISK_CHECK_SECONDS:
            return
        self._last_disk_check = now
        if not self.disk_was_full and nearly_full(self.run_dir):
            self.disk_was_full = True
            print(f"amlocal: the disk holding {self.run_dir} is full while run {self.run_id} runs.", flush=True)
            self.log("Warning: the disk holding the workspace is full; what the job prints or records now may be lost.")

    def _ingest(self, final=False):
        """Turn the job's new events into metrics, tags and run files. Everything in them is
        checked (``events``): a bad event becomes a warning in the control log, nothing more."""
        if self._events is None:
            self._events = EventReader(self.control_dir, state=self._store(self.history.ingest_state, self.run_id))
        while True:
            batch = self._events.read(final=final)
            for line in (*copy_uploads(batch.uploads, self.files), *batch.warnings):
                self.warn("Warning", line)
            for note in batch.statuses:
                self.log(note.line())
            if batch.metrics or batch.tags or batch.uploads or batch.warnings or batch.statuses or batch.more:
                self._store(self.history.record_events, self.run_id, list(batch.metrics), dict(batch.tags),
                            self._events.state.to_dict())
            if not batch.more:
                return

    def _collect(self):
        """Finalizing: events, ./outputs and ./logs of the job into run history (idempotent)."""
        workdir = self.layout.run_workdir(self.run_id)
        if not workdir.exists():
            return
        try:
            self._ingest(final=True)
        except Exception:
            traceback.print_exc()
        else:
            # the job's own files, with owners and modes of its choosing: not kept once read
            shutil.rmtree(self.control_dir, ignore_errors=True)
        for folder in ("outputs", "logs"):
            # copies of the job's regular files only: a link (to a host file, or ``outputs``
            # itself linking to a host directory) is never followed, nothing is moved
            try:
                report = copy_tree_under(workdir, folder, self.files)
            except OSError as err:  # ENOSPC: the run ends, with what could be copied
                self.disk_was_full = self.disk_was_full or err.errno == errno.ENOSPC
                self.warn("Warning", f"./{folder} could not be collected: {err}")
                continue
            for name, reason in report.skipped:
                self.warn("Warning", f"{name} was not collected: {reason}")
        shutil.rmtree(workdir, ignore_errors=True)

    def _release_execution(self):
        """Remove the job's container / process group before the run is reported finished."""
        if self.execution is not None:
            try:
                self.execution.cleanup()
            except Exception:
                traceback.print_exc()
            self.execution = None

    def _release_slot(self):
        if self.slot is not None and self.keep_node:
            self.freed_slot = self.slot  # still locked: no other process can start a run on it meanwhile
        elif self.slot is not None:
            self.slot.release()
        self.slot = None

    def _failure_message(self, exit_info):
        if exit_info.oom_killed:
            size = f" of {self.compute['vm_size']}" if self.compute else " (the default for runs without a compute target)"
            return (f"The job ran out of memory and was killed (memory limit{size} reached). Use a larger "
                    "vm_size or reduce the job's memory use.")
        detail = f" {exit_info.detail}" if exit_info.detail else ""
        return f"User program failed with exit code {exit_info.exit_code}.{detail} See {DRIVER_LOG}."

    def _fail(self, message, code, log_tail):
        self.set_status(statuses.FAILED, statuses.run_error(message, code, log_tail))

    def _end_canceled(self):
        reason = self.history.cancel_reason(self.run_id)
        self.set_status(statuses.CANCELED, statuses.run_error(reason or "Canceled by the user.",
                                                              "EarlyTermination" if reason else "Canceled"))


class SweepSupervisor:
    """Follows a HyperDrive sweep's parent run: its SweepController (``amlocal.sweeps``), with
    the sweep's log among the run's logs. Stateless, so adopting a sweep is running it again."""

    def __init__(self, run_dir, lock_fd=None):
        from ..specs import SweepSpec

        run_dir = Path(run_dir)
        description = json.loads((run_dir / "spec.json").read_text())
        workspace = WorkspaceInfo.from_dict(description["workspace"])
        backend_class = load_backend_class(description["backend"]["target"])
        stores = backend_class.open_stores(workspace)
        self.backend = backend_class(workspace, stores)
        self.history = stores.run_history
        self.database = getattr(stores, "database", None)
        self.lock_fd = lock_fd
        self.run_id = description["run_id"]
        self.sweep = SweepSpec.from_dict(description["sweep"])
        self.log_path = stores.layout.run_files(self.run_id) / SWEEP_LOG

    def log(self, line):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as out:
            out.write(f"[{stamp}Z]{line}\n")

    def run(self):
        server = self._fork_server()  # first: before this process opens the database
        if server is not None:
            dispatch.start_supervisors_with(server)
        try:
            self._control()
        finally:
            if server is not None:
                dispatch.start_supervisors_with(None)
                server.stop()

    def _fork_server(self):
        """The children's supervisors start as forks of a copy of this process made now, while
        it has no database connection and no thread (``forkserver``); None where it cannot."""
        if not SupervisorForkServer.available() or self.database is None or self.database.connected():
            return None
        try:
            return SupervisorForkServer(main, close=() if self.lock_fd is None else (self.lock_fd,)).start()
        except OSError:
            traceback.print_exc()
            return None

    def _control(self):
        from ..sweeps import SweepController

        record = self.history.get_run(self.run_id)
        if record["status"] in statuses.TERMINAL:
            return
        self.history.set_status(self.run_id, statuses.RUNNING)
        started = self.history.get_run(self.run_id)["start_time"] or time.time()
        controller = SweepController(
            self.run_id, self.sweep, self.backend, self.history, self.log,
            set_status=lambda status, error=None: self.history.set_status(self.run_id, status, error),
            cancel_requested=lambda: self.history.cancel_requested(self.run_id), started=started)
        try:
            controller.run()
        except Exception as err:  # the parent must end; its children are canceled with it
            traceback.print_exc()
            for child in self.history.list_runs(parent_run_id=self.run_id):
                if child["status"] not in statuses.TERMINAL:
                    self.backend.cancel(child["run_id"])
            self.history.set_status(self.run_id, statuses.FAILED, statuses.run_error(
                f"The sweep could not go on: {type(err).__name__}: {err}", "SystemError"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="amlocal-supervisor")
    parser.add_argument("run_dir")
    parser.add_argument("--lock-fd", type=int, required=True)
    parser.add_argument("--slot-dir")
    parser.add_argument("--slot-index", type=int)
    parser.add_argument("--slot-fd", type=int)
    parser.add_argument("--adopt", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)  # what this process writes under the workspace is the user's only (logs, run files)
    keep_going()
    slot = adopt_slot(args.slot_dir, args.slot_index, args.slot_fd) if args.slot_dir else None
    try:
        if json.loads((Path(args.run_dir) / "spec.json").read_text()).get("kind") == "hyperdrive":
            follower = SweepSupervisor(args.run_dir, lock_fd=args.lock_fd)
        else:
            job_shim_dir(cache_dir())  # assembled before the job needs it
            follower = Supervisor(args.run_dir, slot=slot, adopt=args.adopt)
    except Exception as err:  # the run cannot even be followed: it must not wait forever
        traceback.print_exc()
        _fail_unstartable(args.run_dir, err)
        if slot is not None:
            slot.release()
        return
    if isinstance(follower, Supervisor):
        follower.run(keep_node=True)
    else:
        follower.run()
    os.close(args.lock_fd)
    freed = follower.freed_slot if isinstance(follower, Supervisor) else None
    if getattr(follower, "_leave_queued", False):
        # the run waits Queued now that its lock is free: the dispatcher starts it when a node frees
        ensure_dispatcher(follower.layout)
    elif isinstance(follower, Supervisor) and follower.compute:
        follow_queued_runs(follower.layout, follower.history, follower.compute["name"], freed)
        freed = None
    if freed is not None:
        freed.release()


def follow_queued_runs(layout, history, target, freed=None):
    """This process's run ended and freed a node of ``target`` (``freed``: that node, still
    locked, or None): follow the runs queued for that target here, one after another, each on
    the node the one before freed. Each is spared a new process (an interpreter and its imports:
    ~0.2 s of CPU) and the dispatcher's poll, and no other process can take the node between
    the two. A run this process cannot take (another process following it) is the dispatcher's,
    as always; a run followed here holds its own lock, as any supervisor's does. The node is
    released when no queued run is left to take."""
    while True:
        taken = take_next_queued(layout, history, target, freed)
        if taken is None:
            return
        run_id, lock, slot = taken
        freed = None
        _write_output_to(layout.supervisor_log(run_id))
        try:
            follower = Supervisor(layout.run_dir(run_id), slot=slot)
        except Exception as err:  # as in main: the run cannot even be followed, it must not wait
            traceback.print_exc()
            _fail_unstartable(layout.run_dir(run_id), err)
            slot.release()
            os.close(lock)
            continue
        follower.run(keep_node=True)
        os.close(lock)
        freed = follower.freed_slot
        if follower._leave_queued:
            if freed is not None:
                freed.release()
            ensure_dispatcher(layout)
            return


def _write_output_to(log_path):
    """What this process prints goes to ``log_path`` from now on (the supervisor log of the run
    it follows next)."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _fail_unstartable(run_dir, error):
    """End a run whose supervisor cannot start (its backend fails to load, its spec is
    unreadable) Failed, saying why, through the workspace's own database."""
    from .run_history import LocalRunHistory
    from .database import Database
    from .layout import WorkspaceLayout

    run_dir = Path(run_dir)
    layout = WorkspaceLayout(run_dir.parents[1])
    history = LocalRunHistory(Database(layout.database), layout)
    history.set_status(run_dir.name, statuses.FAILED, statuses.run_error(
        f"amlocal could not start following the run: {type(error).__name__}: {error}. Is the run's backend "
        "installed in this Python environment?", "SystemError"))


if __name__ == "__main__":
    main()
