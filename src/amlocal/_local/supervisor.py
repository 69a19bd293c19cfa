"""The detached process that takes one local run through its phases.

    python -m amlocal._local.supervisor RUN_DIR --lock-fd N [--slot-dir D --slot-index I --slot-fd N] [--adopt]

Preparing (the backend builds or reuses the environment; the build log is a run log) ->
Starting -> Running (the job; its events become metrics, tags and files as they arrive) ->
Finalizing (./outputs and ./logs into run history) -> Completed, Failed or Canceled. Whatever
goes wrong ends the run Failed with the reason and the tail of the relevant log; outputs
written before a failure are still collected. It is given, as inherited descriptors, the run's
``supervisor.lock`` (which says it lives) and the node of the run's compute target.

With ``--adopt`` it takes over a run whose supervisor died: it finds the job again (from
``job.json``), follows it to its end and finishes the run as its first supervisor would have.

It needs only ``spec.json``: the backend class, the WorkspaceInfo and the RunSpec are there.
"""

import argparse
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
from .._runtime import EVENTS_FILE, UPLOADS_DIR, job_shim_dir, read_events
from ..exceptions import BackendUnavailableError, EnvironmentBuildError, StoreFullError
from ..rules import statuses
from ..specs import EnvironmentSpec, RunSpec, WorkspaceInfo
from . import snapshots
from .job import DataPath, Job, PreparationCanceled
from .node_slots import adopt_slot
from .resources import DEFAULT_PIDS_LIMIT, limits_for
from .run_history import BUILD_LOG, CONTROL_LOG, DRIVER_LOG, tail

LOG_TAIL_LINES = 30
CANCEL_CHECK_SECONDS = 0.2
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
        self.adopting = adopt
        self.execution = None
        self.cancel_requested = False
        self.timed_out = False
        self.disk_was_full = False
        self._last_cancel_check = 0.0
        self._control_log = LazyLog(self.files / CONTROL_LOG)

    # -- helpers -----------------------------------------------------------------------------
    def log(self, message):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        try:
            self._control_log.write(f"[{stamp}Z] {message}\n")
        except OSError:  # a full disk must not stop the run from ending properly
            print(f"[{stamp}Z] {message}", flush=True)

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
        self.log(f"Status: {status}")
        if not recorded and status not in statuses.TERMINAL:
            raise RunEnded()
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
    def run(self):
        signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            if self.history.get_run(self.run_id)["status"] in statuses.TERMINAL:
                return
            if self.adopting:
                self._adopt()
            else:
                self._phases()
        except RunEnded:
            self.log("The run ended while it was being prepared (canceled); stopping.")
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
            self._collect()
            self._release_execution()
            self._release_slot()
            self._control_log.close()

    def _phases(self):
        for warning in self.description.get("snapshot_warnings") or []:
            self.log(f"Snapshot: {warning}")
        if self.should_stop():
            return self._end_canceled()
        self.backend.warm_up()
        if self.slot is not None:
            self.log(f"Running on node {self.slot.index} of {self.compute['name']} "
                     f"(max_nodes={self.compute['max_nodes']})")
        self.set_status(statuses.PREPARING)
        build_log = LazyLog(self.files / BUILD_LOG)
        try:
            prepared = self.backend.prepare_environment(self.environment, build_log, self.should_stop)
        finally:
            build_log.close()
        for warning in prepared.get("warnings") or []:
            self.log(f"Environment: {warning}")
        if self.should_stop():
            return self._end_canceled()
        self.set_status(statuses.STARTING)
        job = self._job(create=True)
        self.execution = self.backend.launch(prepared, job, self._record_handle)
        self.set_status(statuses.RUNNING)
        self._finish(self._follow())

    def _adopt(self):
        self.log(f"The run's supervisor ended; this process (pid {os.getpid()}) adopts the run.")
        try:
            handle = json.loads(self.layout.job_handle(self.run_id).read_text())
        except (OSError, ValueError):
            handle = None
        status = self.history.get_run(self.run_id)["status"]
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
            snapshots.materialize(self.layout.run_snapshot(self.run_id), workdir)
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
        target = _inside(workdir, name)
        if create:
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            self.log(f"Downloaded {reference.datastore}/{reference.path_on_datastore} to {name}")
        return DataPath(target, "download")

    def _follow(self):
        limit = self.spec.max_run_duration_seconds
        deadline = time.monotonic() + limit if limit else None
        stopping = False
        while True:
            exit_info = self.execution.wait(0.1)
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

    def _ingest(self):
        """Turn the job's new events into metrics, tags and run files."""
        offset = self._store(self.history.events_offset, self.run_id)
        events, new_offset = read_events(self.control_dir / EVENTS_FILE, offset)
        if new_offset == offset:
            return
        metrics = [e for e in events if e.get("kind") == "metric"]
        tags = {e["key"]: e.get("value") for e in events if e.get("kind") == "tag"}
        for event in events:
            if event.get("kind") == "upload":
                source = self.control_dir / event["path"]
                target = self.files / event["name"]
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.is_file():
                    shutil.copyfile(source, target)
            elif event.get("kind") == "status":
                self.log(f"The script reported {event.get('status')}" +
                         (f": {event['error']}" if event.get("error") else ""))
        self._store(self.history.record_events, self.run_id, metrics, tags, new_offset)

    def _collect(self):
        """Finalizing: events, ./outputs and ./logs of the job into run history (idempotent)."""
        workdir = self.layout.run_workdir(self.run_id)
        if not workdir.exists():
            return
        try:
            self._ingest()
        except Exception:
            traceback.print_exc()
        for folder in ("outputs", "logs"):
            _merge_move(workdir / folder, self.files / folder)
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
        if self.slot is not None:
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
        self.set_status(statuses.CANCELED, statuses.run_error("Canceled by the user.", "Canceled"))


def _inside(root, name):
    name = str(name).replace("\\", "/").strip("/")
    if not name or ".." in name.split("/") or "\0" in name:
        raise ValueError(f"path_on_compute {name!r} must be a relative path without '..'")
    return Path(root) / name


def _merge_move(source, target):
    if not source.exists():
        return
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="amlocal-supervisor")
    parser.add_argument("run_dir")
    parser.add_argument("--lock-fd", type=int, required=True)
    parser.add_argument("--slot-dir")
    parser.add_argument("--slot-index", type=int)
    parser.add_argument("--slot-fd", type=int)
    parser.add_argument("--adopt", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    slot = adopt_slot(args.slot_dir, args.slot_index, args.slot_fd) if args.slot_dir else None
    cache = cache_dir()
    job_shim_dir(cache)  # assembled before the job needs it
    Supervisor(args.run_dir, slot=slot, adopt=args.adopt).run()
    os.close(args.lock_fd)


if __name__ == "__main__":
    main()
