"""The detached process that takes one local run through its phases.

    python -m amlocal._local.supervisor RUN_DIR

Queued (wait for a node of the compute target) -> Preparing (the backend builds or reuses the
environment; the build log is a run log) -> Starting -> Running (the job; its events become
metrics, tags and files as they arrive) -> Finalizing (./outputs and ./logs into run history)
-> Completed, Failed or Canceled. Whatever goes wrong ends the run Failed with the reason and
the tail of the relevant log; outputs written before a failure are still collected.
"""

import json
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from .._runtime import EVENTS_FILE, UPLOADS_DIR, read_events
from ..exceptions import BackendUnavailableError, EnvironmentBuildError
from .backend import DataPath, Job
from .node_slots import NodeSlots
from .run_history import BUILD_LOG, CONTROL_LOG, DRIVER_LOG, tail
from .vm_sizes import limits_for

LOG_TAIL_LINES = 30
CANCEL_CHECK_SECONDS = 0.5


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


class Supervisor:
    def __init__(self, run_dir):
        from ..core.workspace import Workspace

        self.run_dir = Path(run_dir)
        self.description = json.loads((self.run_dir / "spec.json").read_text())
        ws = self.description["workspace"]
        self.workspace = Workspace(ws["subscription_id"], ws["resource_group"], ws["name"],
                                   backend=self.description["backend"], _config_data=ws["config"])
        self.backend = self.workspace.backend
        self.history = self.backend.run_history
        self.layout = self.backend.layout
        self.run_id = self.description["run_id"]
        self.files = self.layout.run_files(self.run_id)
        self.control_dir = self.layout.run_control(self.run_id)
        self.execution = None
        self.cancel_requested = False
        self.timed_out = False
        self.events_offset = 0
        self._last_cancel_check = 0.0
        self._control_log = LazyLog(self.files / CONTROL_LOG)

    # -- helpers -----------------------------------------------------------------------------
    def log(self, message):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self._control_log.write(f"[{stamp}Z] {message}\n")

    def set_status(self, status, error=None):
        self.history.set_status(self.run_id, status, error)
        self.log(f"Status: {status}")

    def _on_sigterm(self, signum, frame):
        self.cancel_requested = True

    def should_stop(self):
        now = time.monotonic()
        if not self.cancel_requested and now - self._last_cancel_check > CANCEL_CHECK_SECONDS:
            self._last_cancel_check = now
            self.cancel_requested = self.history.cancel_requested(self.run_id)
        return self.cancel_requested

    # -- the phases --------------------------------------------------------------------------
    def run(self):
        signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self._phases()
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
            self._control_log.close()

    def _release_execution(self):
        """Remove the job's container / process group before the run is reported finished."""
        if self.execution is not None:
            try:
                self.execution.cleanup()
            except Exception:
                traceback.print_exc()
            self.execution = None

    def _phases(self):
        if self.should_stop():
            return self._end_canceled()
        compute = self.description.get("compute")
        self.set_status("Queued")
        self.backend.warm_up()
        slots = None
        if compute:
            slots = NodeSlots(self.layout.compute_locks, compute["name"], compute["max_nodes"])
            self.log(f"Waiting for a free node of {compute['name']} (max_nodes={compute['max_nodes']})")
            if slots.acquire(self.should_stop) is None:
                return self._end_canceled()
            self.log(f"Running on node {slots.index} of {compute['name']}")
        try:
            self.set_status("Preparing")
            build_log = LazyLog(self.files / BUILD_LOG)
            try:
                prepared = self.backend.prepare_environment(self.description["environment"], build_log)
            finally:
                build_log.close()
            if self.should_stop():
                return self._end_canceled()
            self.set_status("Starting")
            self.execution = self.backend.launch(prepared, self._job(compute))
            self.set_status("Running")
            exit_info = self._follow()
            self.set_status("Finalizing")
            self._collect()
            self._release_execution()
            if self.cancel_requested:
                self._end_canceled()
            elif self.timed_out:  # Azure ML cancels a run that outlives max_run_duration_seconds
                self.set_status("Canceled", {
                    "message": f"The run exceeded max_run_duration_seconds "
                               f"({self.description['max_run_duration_seconds']}) and was canceled.",
                    "code": "RunTimeout", "log_tail": tail(self.files / DRIVER_LOG, LOG_TAIL_LINES)})
            elif exit_info.exit_code == 0:
                self.set_status("Completed")
            else:
                self._fail(self._failure_message(exit_info, compute),
                           "OutOfMemory" if exit_info.oom_killed else "UserError",
                           tail(self.files / DRIVER_LOG, LOG_TAIL_LINES))
        finally:
            if slots:
                slots.release()

    def _job(self, compute):
        workdir = self.layout.run_workdir(self.run_id)
        shutil.copytree(self.layout.run_snapshot(self.run_id), workdir, dirs_exist_ok=True)
        (self.control_dir / UPLOADS_DIR).mkdir(parents=True, exist_ok=True)
        arguments = [self._data_path(a, workdir) if isinstance(a, dict) else a
                     for a in self.description["arguments"]]
        cpus, memory = limits_for(compute["vm_size"]) if compute else (None, None)
        return Job(run_id=self.run_id, experiment=self.description["experiment"], workdir=workdir,
                   control_dir=self.control_dir, script=self.description["script"], arguments=arguments,
                   environment_variables=dict(self.description["environment"].get("environment_variables") or {}),
                   driver_log=self.files / DRIVER_LOG, cpus=cpus, memory_bytes=memory,
                   labels={"amlocal.run_id": self.run_id, "amlocal.workspace": self.workspace.name})

    def _data_path(self, reference, workdir):
        source = self.layout.datastore_dir(reference["datastore"]) / reference["path_on_datastore"]
        if reference["mode"] != "download":
            return DataPath(source, "mount")
        name = reference.get("path_on_compute") or reference["path_on_datastore"] or reference["datastore"]
        target = workdir / name.strip("/")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        self.log(f"Downloaded {reference['datastore']}/{reference['path_on_datastore']} to {name}")
        return DataPath(target, "download")

    def _follow(self):
        limit = self.description.get("max_run_duration_seconds")
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
        events, self.events_offset = read_events(self.control_dir / EVENTS_FILE, self.events_offset)
        metrics = [e for e in events if e.get("kind") == "metric"]
        if metrics:
            self.history.log_metrics(self.run_id, metrics)
        tags = {e["key"]: e.get("value") for e in events if e.get("kind") == "tag"}
        if tags:
            self.history.set_tags(self.run_id, tags)
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

    def _failure_message(self, exit_info, compute):
        if exit_info.oom_killed:
            size = f" of {compute['vm_size']}" if compute else ""
            return (f"The job ran out of memory and was killed (memory limit{size} reached). Use a larger "
                    "vm_size or reduce the job's memory use.")
        detail = f" {exit_info.detail}" if exit_info.detail else ""
        return f"User program failed with exit code {exit_info.exit_code}.{detail} See {DRIVER_LOG}."

    def _fail(self, message, code, log_tail):
        self.set_status("Failed", {"message": message, "code": code, "log_tail": log_tail})

    def _end_canceled(self):
        self.set_status("Canceled", {"message": "Canceled by the user.", "code": "Canceled"})


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
    argv = sys.argv[1:] if argv is None else argv
    Supervisor(argv[0]).run()


if __name__ == "__main__":
    main()
