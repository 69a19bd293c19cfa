"""``LocalBackend``: what the docker and process backends share.

``submit`` records the run, snapshots the source directory and starts a detached supervisor
process (``amlocal._local.supervisor``) that takes the run through Queued, Preparing,
Starting, Running and Finalizing, so the run finishes even when the submitting process exits.
A subclass supplies the two execution steps the supervisor calls: ``prepare_environment``
(build or reuse an image / virtualenv) and ``launch`` (start the job, return an Execution).
"""

import abc
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..backend import Backend
from ..core.compute_target import ComputeTargetException
from ..core.datastore import DataReference
from ..core.environment import DEFAULT_BASE_IMAGE
from ..exceptions import InvalidArgumentError
from ..run_history import TERMINAL_STATUSES
from . import datastore_files, process_liveness
from .layout import WorkspaceLayout
from .model_registry import LocalModelRegistry
from .run_history import LocalRunHistory, tail
from .store import LocalStore
from .vm_sizes import VM_SIZES, known_vm_size, limits_for

SNAPSHOT_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".ipynb_checkpoints", "outputs", "logs")


@dataclass
class ExitInfo:
    """How a job's process ended."""
    exit_code: int
    oom_killed: bool = False
    detail: str = ""


class Execution(abc.ABC):
    """A started job. Its output goes to the driver log file given to ``launch``."""

    @abc.abstractmethod
    def wait(self, timeout):
        """Wait up to ``timeout`` seconds; ExitInfo once the job ended, else None.
        Raises BackendUnavailableError when the engine running it went away."""

    @abc.abstractmethod
    def stop(self):
        """Kill the job (cancel, or time limit). Idempotent."""

    def cleanup(self):
        """Release what the job held (container, process group) after it ended."""


@dataclass
class Job:
    """What ``launch`` runs: ``arguments`` items are str or DataPath."""
    run_id: str
    experiment: str
    workdir: Path
    control_dir: Path
    script: str
    arguments: list
    environment_variables: dict
    driver_log: Path
    cpus: float = None
    memory_bytes: int = None
    labels: dict = field(default_factory=dict)


@dataclass
class DataPath:
    """A datastore path given as an argument: ``host_path`` exists on this machine; ``mode`` is
    mount (read-only, in place) or download (a copy inside the job's working directory)."""
    host_path: Path
    mode: str


def new_run_id(experiment):
    return f"{experiment}_{int(time.time())}_{os.urandom(4).hex()}"


class LocalBackend(Backend):
    shares_local_stores = True
    poll_interval = 0.02

    def __init__(self, workspace):
        super().__init__(workspace)
        self.layout = WorkspaceLayout(workspace._local_root)
        self.store = LocalStore(self.layout.database)
        self._history = LocalRunHistory(self.store, self.layout)
        self._registry = LocalModelRegistry(self.store, self.layout, self._history)

    @property
    def run_history(self):
        return self._history

    @property
    def model_registry(self):
        return self._registry

    @classmethod
    def is_available(cls):
        """Whether this backend can run jobs on this machine (cheap; used to pick a default)."""
        return True

    def check_available(self):
        """Raise BackendUnavailableError, saying what to do, when jobs cannot run here."""

    def warm_up(self):
        """Called once when a supervisor starts, before Queued: connect to whatever runs jobs,
        so that connection costs are not charged to Preparing."""

    # -- execution steps, run inside the supervisor ------------------------------------------
    @abc.abstractmethod
    def prepare_environment(self, environment, build_log):
        """Build or reuse what ``environment`` (Environment.to_dict() with a resolved base_image)
        needs; write progress to ``build_log`` (a text file object). Returns a JSON-able dict for
        ``launch``. Raises EnvironmentBuildError."""

    @abc.abstractmethod
    def launch(self, prepared, job):
        """Start ``job`` in the prepared environment and return an Execution at once."""

    # -- submit --------------------------------------------------------------------------------
    def submit(self, spec):
        self.check_available()
        compute = self.get_compute(spec.compute_target) if spec.compute_target else None
        environment = spec.environment.to_dict()
        environment["base_image"] = environment.get("base_image") or self.workspace.base_image or DEFAULT_BASE_IMAGE
        arguments = [a.to_dict() if isinstance(a, DataReference) else str(a) for a in spec.arguments]
        for argument in arguments:
            if isinstance(argument, dict):
                self._check_data_reference(argument)
        run_id = new_run_id(spec.experiment)
        self._history.create_run(run_id, spec.experiment, self.name, spec.script, arguments, spec.compute_target,
                                 environment)
        if spec.tags:
            self._history.set_tags(run_id, spec.tags)
        run_dir = self.layout.run_dir(run_id)
        shutil.copytree(spec.source_directory, self.layout.run_snapshot(run_id), ignore=SNAPSHOT_IGNORE)
        description = {
            "run_id": run_id, "experiment": spec.experiment, "backend": self.name, "script": spec.script,
            "arguments": arguments, "environment": environment, "compute": compute,
            "max_run_duration_seconds": spec.max_run_duration_seconds,
            "workspace": {"subscription_id": self.workspace.subscription_id,
                          "resource_group": self.workspace.resource_group, "name": self.workspace.name,
                          "config": self.workspace._config},
        }
        self.layout.run_spec(run_id).write_text(json.dumps(description, indent=2))
        self._start_supervisor(run_id, run_dir)
        return run_id

    def _check_data_reference(self, reference):
        path = self.layout.datastore_dir(reference["datastore"]) / reference["path_on_datastore"]
        if not path.exists():
            raise InvalidArgumentError(
                f"Datastore path {reference['datastore']}/{reference['path_on_datastore']} does not exist. "
                "Upload the data first (ds.upload(src_dir=..., target_path=...)).")

    def _start_supervisor(self, run_id, run_dir):
        env = dict(os.environ)
        roots = {str(Path(__file__).resolve().parents[2]), str(Path(sys.modules[type(self).__module__].__file__)
                                                               .resolve().parents[1])}
        env["PYTHONPATH"] = os.pathsep.join([*sorted(roots), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        with open(run_dir / "supervisor.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "amlocal._local.supervisor", str(run_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True, env=env, cwd=str(run_dir))
        self._history.set_supervisor(run_id, process.pid, process_liveness.start_marker(process.pid))

    # -- status --------------------------------------------------------------------------------
    def get_status(self, run_id):
        record = self._history.get_run(run_id)
        status = record["status"]
        if status not in TERMINAL_STATUSES and record["supervisor_pid"]:
            if not process_liveness.alive(record["supervisor_pid"], record["supervisor_start"]):
                status = self._supervisor_died(run_id, record)
        return status

    def _supervisor_died(self, run_id, record):
        log = self.layout.run_dir(run_id) / "supervisor.log"
        log_tail = tail(log, 30)
        self._history.set_status(run_id, "Failed", {
            "message": f"The run's supervisor process (pid {record['supervisor_pid']}) ended while the run was "
                       f"{record['status']}; the run cannot finish. See {log}.",
            "code": "SupervisorDied", "log_tail": log_tail})
        return self._history.get_run(run_id)["status"]

    def get_details(self, run_id):
        status = self.get_status(run_id)
        record = self._history.get_run(run_id)
        details = {
            "runId": run_id, "target": record["compute_target"] or "local", "status": status,
            "startTimeUtc": _utc(record["start_time"]), "endTimeUtc": _utc(record["end_time"]),
            "properties": {"azureml.runsource": "experiment", "backend": record["backend"]},
            "runDefinition": {"script": record["script"], "arguments": record["arguments"],
                              "environment": record["environment"], "target": record["compute_target"] or "local"},
            "logFiles": {name: str(self.layout.run_files(run_id) / name) for name in self._history.log_names(run_id)},
            "statusTimeline": self._history.status_timeline(run_id),
            "tags": record["tags"],
        }
        if record["error"]:
            details["error"] = record["error"]
        return details

    def portal_url(self, run_id):
        return self.layout.run_dir(run_id).resolve().as_uri()

    def cancel(self, run_id):
        record = self._history.get_run(run_id)
        if record["status"] in TERMINAL_STATUSES:
            return
        self._history.request_cancel(run_id)
        pid = record["supervisor_pid"]
        if pid and process_liveness.alive(pid, record["supervisor_start"]):
            self._history.set_status(run_id, "CancelRequested")
            process_liveness.terminate(pid)
        else:
            self._history.set_status(run_id, "Canceled", {"message": "Canceled by the user before it started.",
                                                          "code": "Canceled"})

    def start_interactive_run(self, experiment, snapshot_directory=None):
        run_id = new_run_id(experiment)
        self._history.create_run(run_id, experiment, self.name, None, [], None, {})
        self._history.set_status(run_id, "Running")
        return run_id

    def end_interactive_run(self, run_id, status, error=None):
        self._history.set_status(run_id, status, error)

    # -- compute targets -----------------------------------------------------------------------
    def get_compute(self, name):
        rows = self.store.read("SELECT * FROM compute_targets WHERE name = ?", (name,))
        if not rows:
            raise ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name {name} not found in "
                                         f"provided workspace {self.workspace.name}.")
        return dict(rows[0])

    def list_computes(self):
        return [dict(row) for row in self.store.read("SELECT * FROM compute_targets ORDER BY name")]

    def create_compute(self, name, provisioning_configuration):
        cfg = provisioning_configuration
        if not known_vm_size(cfg.vm_size):
            raise ComputeTargetException(
                f"Unknown vm_size {cfg.vm_size!r}. Known sizes: {', '.join(sorted(VM_SIZES))}.")
        if not isinstance(name, str) or not 2 <= len(name) <= 24 or not name[0].isalpha():
            raise ComputeTargetException(f"Invalid compute name {name!r}: 2 to 24 characters, starting with a letter.")
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO compute_targets VALUES (?, 'AmlCompute', ?, ?, ?, ?, ?, 'Succeeded', ?)",
                         (name, cfg.vm_size.upper(), cfg.vm_priority, cfg.min_nodes, cfg.max_nodes,
                          cfg.idle_seconds_before_scaledown, time.time()))
        return self.get_compute(name)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        description = self.get_compute(name)
        if show_output:
            cpus, memory = limits_for(description["vm_size"])
            print(f"Provisioning operation finished, operation \"{description['provisioning_state']}\"\n"
                  f"{description['provisioning_state']}\nAmlCompute wait for completion finished\n\n"
                  f"{name}: {description['vm_size']} -> {cpus:g} CPUs, {memory / (1 << 30):.1f} GiB per node, "
                  f"{description['max_nodes']} nodes at most")
        return description

    # -- datastores ----------------------------------------------------------------------------
    def datastore_upload(self, datastore_name, files, overwrite=False, show_progress=True):
        return datastore_files.upload(self.layout.datastore_dir(datastore_name), files, overwrite, show_progress)

    def datastore_download(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        return datastore_files.download(self.layout.datastore_dir(datastore_name), target_path, prefix, overwrite,
                                        show_progress)

    def datastore_list(self, datastore_name, prefix=None):
        return datastore_files.list_files(self.layout.datastore_dir(datastore_name), prefix)


def _utc(epoch):
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"
