"""The runs of a fake Azure ML workspace: what both backends' fakes do alike.

* ``JobProcess``: one job's process on the fake "compute node": its folders (the code
  snapshot, the working directory, the run's files), a process in its own session whose output
  goes to a log among the run's files, its end, and ./outputs and ./logs collected as Azure ML
  collects them (links are neither followed nor kept). What runs, and how its inputs and its
  logging reach it, is each SDK's (a subclass's ``start``).
* ``FakeRun``: a run's state as the service keeps it.
* ``FakeRunner``: the service's side of runs, for a fake adapter to build on. Runs move through
  the service's statuses one step per ``get_status`` poll; a run holds a node of its cluster
  from leaving Queued until it ends, and waits Queued while ``max_nodes`` runs hold one (the
  service goes on with those meanwhile); Running lasts as long as the process; past its time
  limit a run is stopped and ends Canceled; ``cancel`` asks (CancelRequested), the next poll
  ends it Canceled. The order of the statuses and the errors a run ends with are each
  service's own (SDK v1 and v2 differ): a subclass says them.
"""

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.rules.statuses import CANCEL_REQUESTED, CANCELED, COMPLETED, FAILED, FINALIZING, QUEUED, RUNNING, \
    TERMINAL

from .paths import inside

FAKE_TENANT = "00000000-0000-0000-0000-000000000000"
#: Seconds a stopped job has between SIGTERM and SIGKILL.
STOP_GRACE_SECONDS = 5
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b")


def node_environment():
    """The variables a job on a compute node starts from: the host's, without amlocal's own, the
    host's MLflow settings or its Python setup (the node has its own)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AMLOCAL_", "MLFLOW_")) and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


class JobProcess:
    """One job on the fake node. ``snapshot``/``files``: the names of its code and files folders."""

    def __init__(self, job_dir, snapshot="snapshot", files="files"):
        self.dir = Path(job_dir)
        self.snapshot_dir = self.dir / snapshot
        self.work_dir = self.dir / "work"
        self.files_dir = self.dir / files
        self.process = None
        self.exit_code = None
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def take_snapshot(self, source, ignore=None):
        shutil.copytree(source, self.snapshot_dir, ignore=ignore)

    def open_work_dir(self):
        """The working directory, a copy of the snapshot (before inputs are put in it)."""
        shutil.copytree(self.snapshot_dir, self.work_dir, dirs_exist_ok=True)
        return self.work_dir

    def launch(self, argv, env, log_name):
        """Start ``argv`` in the working directory, its output appended to the run's file ``log_name``."""
        log_path = self.files_dir / log_name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(argv, cwd=str(self.work_dir), env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def poll(self):
        """The exit code once the job ended, else None."""
        if self.process is not None and self.exit_code is None:
            self.exit_code = self.process.poll()
        return self.exit_code

    def stop(self):
        """SIGTERM to the job's whole session, SIGKILL when it has not ended within the grace period."""
        if self.process is not None and self.process.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    self.process.wait(timeout=STOP_GRACE_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.poll()

    def collect_outputs(self):
        """./outputs and ./logs of the working directory into the run's files, as Azure ML does."""
        for folder in ("outputs", "logs"):
            source = self.work_dir / folder
            if not source.is_dir() or source.is_symlink():
                continue
            for here, dirs, files in os.walk(source):  # links are never followed nor kept
                dirs[:] = [d for d in dirs if not (Path(here) / d).is_symlink()]
                for filename in files:
                    path = Path(here) / filename
                    if path.is_symlink() or not path.is_file():
                        continue
                    target = self.files_dir / folder / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def last_error_line(self, log_name):
        """The last line of the run's log ``log_name`` that names a Python error, or None."""
        try:
            lines = (self.files_dir / log_name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return None
        return next((line for line in reversed(lines) if _ERROR_LINE.match(line)), None)

    def files(self, prefix=""):
        """Sorted names of the run's files under ``prefix`` (one file's name when it is a file); links left out."""
        root = self.files_dir
        base = inside(root, prefix)
        if base.is_file():
            return [base.relative_to(root).as_posix()]
        return sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass
class FakeRun:
    run_id: str
    experiment: str
    job: JobProcess                    # the job's process on the fake node
    target: str = None                 # the cluster
    submitted: object = None           # the real SDK object submitted
    interactive: bool = False          # logged from a process (start_logging): no job runs
    status: str = "NotStarted"
    timeline: list = field(default_factory=list)
    created: float = field(default_factory=time.time)
    start_time: float = None
    end_time: float = None
    tags: dict = field(default_factory=dict)
    error: dict = None
    holds_node: bool = False
    running_since: float = None
    max_seconds: int = None
    timed_out: bool = False
    polled: bool = False


class FakeRunner:
    """The base of a fake adapter: ``runs`` (run id -> FakeRun), the lock every adapter call
    holds, and the service's side of a run's life. Needs ``self.compute`` (a
    ``fake_assets.FakeClusters``), the workspace's ``subscription_id``, ``resource_group`` and
    ``workspace_name``, and, from the subclass, the service's own parts below."""

    #: the statuses a submitted run goes through before a final one, in the service's order
    lifecycle = ()

    def __init__(self):
        self.runs = {}
        self._lock = threading.RLock()

    # -- what each service does its own way -------------------------------------------------
    def _no_such_run(self, run_id):
        """The SDK's error for a run the workspace does not have."""
        raise NotImplementedError

    def _start(self, run):
        """Start the run's job on its node (the run is about to be Running)."""
        raise NotImplementedError

    def _ingest(self, run):
        """Take in what the job logged since the last time (metrics, tags)."""
        raise NotImplementedError

    def _canceled_error(self, run):
        """The error a run canceled by the user keeps, or None."""
        raise NotImplementedError

    def _timeout_error(self, run):
        """The error of a run canceled for passing its time limit."""
        raise NotImplementedError

    def _failure_error(self, run):
        """The error of a run whose job exited non-zero."""
        raise NotImplementedError

    def _error_record(self, error, now):
        """How the service keeps a run's error (``error``: {"code", "message"})."""
        return error

    def _ready(self, run):
        """Whether the run may leave its status at this poll: True, False (not yet: the service
        is still at it), or the error it fails with there. By default always."""
        return True

    def _entered(self, run, status):
        """The run has just entered ``status`` (the service starts its work there)."""

    # -- a run's life --------------------------------------------------------------------------
    def _run(self, run_id):
        run = self.runs.get(run_id)
        if run is None:
            raise self._no_such_run(run_id)
        return run

    def _add(self, run):
        self._set_status(run, run.status)
        self.runs[run.run_id] = run
        return run

    def _set_status(self, run, status, error=None):
        now = time.time()
        run.status = status
        run.timeline.append((status, now))
        if status == RUNNING and run.start_time is None:
            run.start_time = now
        if status in TERMINAL:
            run.end_time = now
            run.holds_node = False
        if error is not None:
            run.error = self._error_record(error, now)

    def get_status(self, run_id):
        with self._lock:
            run = self._run(run_id)
            if run.polled:  # the first poll sees the status the run was submitted with
                self._advance(run)
            run.polled = True
            return run.status

    def _advance(self, run):
        """One step of the run's life, as the service would take it by the next poll."""
        if run.status in TERMINAL or run.interactive:
            return
        self._ingest(run)
        status = run.status
        if status == CANCEL_REQUESTED:
            run.job.stop()
            self._finish(run)
            self._set_status(run, CANCELED, self._canceled_error(run))
        elif status == QUEUED:
            holding = [r for r in self.runs.values() if r.holds_node and r.target == run.target]
            if len(holding) < self.compute.cluster(run.target)["max_nodes"]:
                run.holds_node = True
                self._step(run)
            else:  # the service goes on with the runs in the way without being asked
                for other in holding:
                    self._advance(other)
        elif status == RUNNING:
            if run.job.poll() is None:
                if run.max_seconds and time.monotonic() - run.running_since > run.max_seconds:
                    run.timed_out = True
                    run.job.stop()
                return
            self._finish(run)
            self._set_status(run, FINALIZING)
        elif status == FINALIZING:
            if run.timed_out:
                self._set_status(run, CANCELED, self._timeout_error(run))
            elif run.job.exit_code == 0:
                self._set_status(run, COMPLETED)
            else:
                self._set_status(run, FAILED, self._failure_error(run))
        else:
            self._step(run)

    def _step(self, run):
        ready = self._ready(run)
        if ready is False:
            return
        if ready is not True:
            self._set_status(run, FAILED, ready)
            return
        following = self.lifecycle[self.lifecycle.index(run.status) + 1]
        if following == RUNNING:
            self._start(run)
            run.running_since = time.monotonic()
        self._set_status(run, following)
        self._entered(run, following)

    def _finish(self, run):
        self._ingest(run)
        if run.job.process is not None:
            run.job.collect_outputs()

    def cancel(self, run_id):
        with self._lock:
            run = self._run(run_id)
            if run.status in TERMINAL:
                return
            if run.interactive:
                self._set_status(run, CANCELED, self._canceled_error(run))
                return
            self._set_status(run, CANCEL_REQUESTED)
            run.job.stop()

    def close(self):
        """Stop every job still running."""
        with self._lock:
            for run in self.runs.values():
                run.job.stop()

    # -- lookups -------------------------------------------------------------------------------
    def _newest_first(self, experiment=None, limit=None):
        """The run ids, newest first, of one experiment or all."""
        with self._lock:
            ids = [r.run_id for r in reversed(list(self.runs.values()))
                   if experiment is None or r.experiment == experiment]
        return ids[:limit] if limit else ids

    def list_experiments(self):
        with self._lock:
            return sorted({run.experiment for run in self.runs.values()})

    def _studio_url(self, run_id):
        with self._lock:
            self._run(run_id)
        return (f"https://ml.azure.com/runs/{run_id}?wsid=/subscriptions/{self.subscription_id}/resourcegroups/"
                f"{self.resource_group}/workspaces/{self.workspace_name}&tid={FAKE_TENANT}")


class FakeDatastoreFiles:
    """The file calls of a fake adapter's datastores, over ``_files_of(datastore, action)`` (an
    ``amlocal.local.DirectoryDatastores`` holding that datastore's files, once the SDK's checks of
    ``action`` "Upload", "Download" or "List" passed)."""

    def _files_of(self, datastore, action):
        raise NotImplementedError

    def upload_files(self, datastore, files, overwrite=False, show_progress=True):
        return self._files_of(datastore, "Upload").upload(datastore, files, overwrite, show_progress)

    def download_files(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        return self._files_of(datastore, "Download").download(datastore, target_path, prefix, overwrite,
                                                              show_progress)

    def list_datastore_files(self, datastore, prefix=None):
        return self._files_of(datastore, "List").list(datastore, prefix)
