"""``FakeAzureAdapter``: a stateful stand-in for one Azure ML workspace, for tests (moto-style).

Use it to test code that targets the ``azureml`` backend without an Azure subscription::

    fake = FakeAzureAdapter()
    fake.add_cluster("cpu-cluster", vm_size="STANDARD_D2_V2", max_nodes=4)
    ws = Workspace.from_config(backend="azureml", backend_options={"adapter": fake})

It behaves as the service does, as far as a training workflow can tell:

* runs move through the statuses Azure documents for AmlCompute (``amlocal.rules.statuses.
  AMLCOMPUTE_ORDER``), one step per ``get_status`` poll: NotStarted, Starting, Preparing,
  Queued, Running, Finalizing, then Completed or Failed (CancelRequested then Canceled after
  ``cancel``). As on Azure no status history is kept for clients: ``status_timeline`` is what
  the polls reported, in order (the real adapter records the same from its own polls);
* Preparing lasts as long as the environment's build (``_fake_image``): the job's environment
  is built from its conda specification as an AmlCompute image would be, with the process
  backend's virtualenv builder, and a bad pin or a Python version clash fails the run there
  with Azure's "Image build failed" error and ``azureml-logs/20_image_build_log.txt``;
* Running lasts as long as the script does: the entry script of the snapshot really runs
  (``_fake_job``) with the environment's interpreter, so metrics, logs and ./outputs are the
  script's own; a run waits Queued while ``max_nodes`` runs of its cluster are active;
* datastores are Azure Blob (``workspaceblobstore``) or Azure File (``workspacefilestore``)
  ones with a key, a SAS token or neither (``add_datastore``); transfers follow
  ``datastore_access`` as the real adapter does, and ``deny_datastore_access`` makes storage
  answer 403;
* clusters (``_fake_compute``), datastore files, runs and models (``_fake_models``, versions 1,
  2, 3 per name) are kept in memory and under ``root``; an unknown vm size, too small a vCPU
  quota (``core_quota``) or a failure planted with ``fail_provisioning`` fail the way Azure does;
* errors are the real SDK's exception types with the SDK's messages.

``mock_azureml()`` makes a fake the adapter of every azureml-backend workspace that names none,
so code that only says ``Workspace.from_config()`` (with AMLOCAL_BACKEND=azureml) runs against it.

Everything Azure would be asked is recorded for assertions: ``submissions`` (experiment, the real
ScriptRunConfig, tags), ``provisioning_configurations`` (cluster name -> the real config) and
``create_requests`` (cluster name -> the request body the SDK builds from it).
State lives in this object: another process (or another FakeAzureAdapter) does not see it.
"""

import contextlib
import json
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.local import DirectoryDatastores
from amlocal.rules import metrics as metric_rules

from . import datastore_access
from ._fake_compute import DEFAULT_FAILURE, FakeClusters
from ._fake_image import IMAGE_BUILD_LOG, ImageBuild
from ._fake_job import FakeJob
from ._fake_models import FakeModels
from ._time import utc
from .adapter import STREAMED_LOG, AzureAdapter
from ._fake_services import FakeServices
from .translate import from_environment, is_curated_name, offline_workspace, to_environment

TERMINAL = ("Completed", "Failed", "Canceled")
#: name -> (kind, credential type) of the datastores every workspace starts with
DEFAULT_DATASTORES = {"workspaceblobstore": ("AzureBlob", "AccountKey"), "workspacefilestore": ("AzureFile", "AccountKey")}
CREDENTIAL_TYPES = ("AccountKey", "Sas", "None")
FAKE_TENANT = "00000000-0000-0000-0000-000000000000"


def _service_exception(status, code, message):
    """A real ``ServiceException`` as the run history client raises it."""
    from types import SimpleNamespace

    from azureml._restclient.exceptions import ServiceException

    inner = SimpleNamespace(message=message, response=SimpleNamespace(status_code=status, headers={}),
                            error=SimpleNamespace(error=SimpleNamespace(code=code, message=message, details=[])))
    return ServiceException(inner)


@dataclass
class FakeRun:
    run_id: str
    experiment: str
    job: FakeJob
    target: str = None
    script: str = None
    arguments: list = field(default_factory=list)
    config: object = None            # the real ScriptRunConfig submitted
    interactive: bool = False
    run_type: str = "azureml.scriptrun"
    parent_run_id: str = None
    cancel_requested: bool = False
    cancel_reason: str = None
    status: str = "NotStarted"
    timeline: list = field(default_factory=list)
    created: float = field(default_factory=time.time)
    start_time: float = None
    end_time: float = None
    tags: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)  # (name, kind, value) in logging order
    error: dict = None
    holds_node: bool = False
    image: object = None             # the ImageBuild of its Preparing
    python: str = None               # the interpreter its image provides
    running_since: float = None
    max_seconds: int = None
    timed_out: bool = False
    polled: bool = False


class FakeAzureAdapter(FakeServices, AzureAdapter):
    poll_interval = 0.05

    def __init__(self, root=None, subscription_id="00000000-0000-0000-0000-000000000000",
                 resource_group="amlocal-fake-rg", workspace_name="amlocal-fake-ws", location="eastus",
                 vm_sizes=None, core_quota=None, python=None, driver_log="azureml-logs/70_driver_log.txt",
                 build_environments=True):
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="amlocal-fake-azure-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.location = location
        #: the base image's interpreter: what user-managed environments run with
        self.python = python or sys.executable
        #: False: no Preparing build, every job runs with ``python`` (for machines with no package index)
        self.build_environments = build_environments
        self._closed = False
        self.driver_log = driver_log
        self.workspace = offline_workspace(subscription_id, resource_group, workspace_name, location)
        self.compute = FakeClusters(location, vm_sizes, core_quota, subscription_id)
        self.models = FakeModels(self.root / "models")
        self.runs = {}
        #: name -> (kind, credential type)
        self.datastores = dict(DEFAULT_DATASTORES)
        #: datastores whose storage answers 403 to every transfer (``deny_datastore_access``)
        self.denied_datastores = set()
        #: name -> [EnvironmentSpec of version 1, 2, ...]
        self.environments = {}
        #: (experiment, the real ScriptRunConfig, tags) of every submit, in order
        self.submissions = []
        self._lock = threading.RLock()

    @property
    def clusters(self):
        return self.compute.clusters

    @property
    def provisioning_configurations(self):
        """cluster name -> the real AmlComputeProvisioningConfiguration last received."""
        return self.compute.provisioning_configurations

    @property
    def create_requests(self):
        """cluster name -> the body of the create request the SDK sends for it."""
        return self.compute.create_requests

    # -- seeding (what an existing workspace already has) -------------------------------------
    def add_cluster(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        """An existing, provisioned cluster."""
        self.compute.add(name, vm_size, max_nodes, min_nodes, vm_priority)

    def add_datastore(self, name, kind="AzureBlob", credential_type="AccountKey"):
        """A registered datastore: ``kind`` AzureBlob or AzureFile; ``credential_type`` AccountKey,
        Sas, or None (identity-based access: no key or SAS token registered with it)."""
        if kind not in ("AzureBlob", "AzureFile") or credential_type not in CREDENTIAL_TYPES:
            raise ValueError(f"kind must be AzureBlob or AzureFile and credential_type one of {CREDENTIAL_TYPES}")
        with self._lock:
            self.datastores[name] = (kind, credential_type)

    def deny_datastore_access(self, name):
        """From now on Azure Storage answers 403 (AuthorizationPermissionMismatch) to transfers
        through datastore ``name``, as it does for a key or SAS token without the permission."""
        with self._lock:
            self.denied_datastores.add(name)

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        """The next provisioning of cluster ``name`` ends Failed with ``message``."""
        self.compute.fail_provisioning(name, message)

    def close(self):
        """Stop every script still running and every environment build."""
        self._closed = True
        with self._lock:
            for run in self.runs.values():
                if run.job.process is not None:
                    run.job.stop()

    # -- compute -------------------------------------------------------------------------------
    def get_compute(self, name):
        return self.compute.get(name)

    def create_compute(self, name, provisioning_configuration):
        return self.compute.create(name, provisioning_configuration)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        return self.compute.wait(name, show_output)

    def list_computes(self):
        return [self.compute.record(cluster) for cluster in self.compute.clusters.values()]

    # -- datastores ----------------------------------------------------------------------------
    def _datastore_dir(self, name):
        from azureml.exceptions import UserErrorException

        if name not in self.datastores:
            raise UserErrorException(f"DatastoreNotFound: Datastore {name} was not found in workspace "
                                     f"{self.workspace_name}. Its datastores: {', '.join(sorted(self.datastores))}.")
        return self.root / "datastores" / name

    def get_datastore(self, name):
        from azureml.data.azure_storage_datastore import AzureBlobDatastore, AzureFileDatastore

        self._datastore_dir(name)
        with self._lock:
            kind, credential_type = self.datastores[name]
        secrets = {"account_key": "ZmFrZS1rZXk="} if credential_type == "AccountKey" else \
            {"sas_token": "sv=2024-01-01&sig=fake"} if credential_type == "Sas" else {}
        if kind == "AzureFile":
            return AzureFileDatastore(self.workspace, name, f"azureml-filestore-{self.workspace_name.lower()}",
                                      "amlocalfakestorage", **secrets)
        return AzureBlobDatastore(self.workspace, name, f"azureml-blobstore-{self.workspace_name.lower()}",
                                  "amlocalfakestorage", **secrets)

    def _files_of(self, name, action):
        datastore_access.check(self.get_datastore(name), action)
        with self._lock:
            denied = name in self.denied_datastores
        if denied:
            from azure.core.exceptions import HttpResponseError

            error = HttpResponseError(message="This request is not authorized to perform this operation using this "
                                              "permission.\nErrorCode:AuthorizationPermissionMismatch")
            error.status_code, error.error_code = 403, "AuthorizationPermissionMismatch"
            raise error
        return DirectoryDatastores(self.root / "datastores")

    def upload_files(self, datastore_name, files, overwrite=False, show_progress=True):
        return self._files_of(datastore_name, "Upload").upload(datastore_name, files, overwrite, show_progress)

    def download_files(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        return self._files_of(datastore_name, "Download").download(datastore_name, target_path, prefix, overwrite,
                                                                   show_progress)

    def list_datastore_files(self, datastore_name, prefix=None):
        return self._files_of(datastore_name, "List").list(datastore_name, prefix)

    def list_datastores(self):
        return sorted(self.datastores)

    def datastore_path_exists(self, datastore_name, path):
        if not datastore_access.paths_checkable(self.get_datastore(datastore_name)):
            return True  # as the SDK adapter: no key to look with, Azure checks it when the job mounts it
        target = self._datastore_dir(datastore_name) / (path or "").strip("/")
        return target.is_file() or (target.is_dir() and any(p.is_file() for p in target.rglob("*")))

    # -- environments ---------------------------------------------------------------------------
    def register_environment(self, environment):
        with self._lock:
            versions = self.environments.setdefault(environment.name, [])
            versions.append(from_environment(environment))
            return str(len(versions))

    def get_environment(self, name, version=None):
        from amlocal import curated_environments
        from amlocal.exceptions import EnvironmentNotFoundError
        from amlocal.specs import replace

        if is_curated_name(name):  # Azure's own: the fake knows them as amlocal's table does
            return curated_environments.lookup(name)
        with self._lock:
            versions = self.environments.get(name) or []
            index = len(versions) if version is None else int(version)
            if not 1 <= index <= len(versions):
                raise EnvironmentNotFoundError(f"Environment {name!r}" + (f" version {version}" if version else "") +
                                               f" was not found in workspace {self.workspace_name}.")
            return replace(versions[index - 1], version=str(index))

    def get_sdk_environment(self, name):
        return to_environment(self.get_environment(name))

    def list_environments(self):
        from amlocal import curated_environments

        found = {name: curated_environments.lookup(name) for name in curated_environments.known_names()}
        with self._lock:
            found.update({name: self.get_environment(name) for name in self.environments})
        return found

    # -- runs --------------------------------------------------------------------------------
    def _new_run(self, experiment, run_id=None, **fields):
        run_id = run_id or f"{experiment}_{int(time.time())}_{secrets.token_hex(4)}"
        if run_id in self.runs:
            raise _service_exception(409, "RunAlreadyExists", f"A run with id {run_id} already exists")
        run = FakeRun(run_id=run_id, experiment=experiment, job=FakeJob(self.root / "runs" / run_id, run_id,
                                                                            experiment), **fields)
        self._set_status(run, "NotStarted")
        self.runs[run_id] = run
        return run

    def _run(self, run_id):
        run = self.runs.get(run_id)
        if run is None:
            raise _service_exception(404, "RunNotFound", f"Run {run_id} was not found")
        return run

    def submit(self, experiment, script_run_config, tags=None, run_id=None, parent_run_id=None):
        from azureml.core import ScriptRunConfig
        from azureml.exceptions import UserErrorException

        if not isinstance(script_run_config, ScriptRunConfig):
            raise UserErrorException(f"submit takes an azureml.core.ScriptRunConfig, got "
                                     f"{type(script_run_config).__name__}")
        run_config = script_run_config.run_config
        target = run_config.target if isinstance(run_config.target, str) else run_config.target.name
        with self._lock:
            self.compute.cluster(target)
            run = self._new_run(experiment, target=target, script=script_run_config.script,
                                arguments=[str(a) for a in script_run_config.arguments or []],
                                config=script_run_config, tags=dict(tags or {}),
                                max_seconds=run_config.max_run_duration_seconds, run_id=run_id,
                                parent_run_id=parent_run_id)
            run.job.take_snapshot(script_run_config.source_directory)
            self.submissions.append((experiment, script_run_config, dict(tags or {})))
            return run.run_id

    def _set_status(self, run, status, error=None):
        now = time.time()
        run.status = status
        run.timeline.append((status, now))
        if status == "Running" and run.start_time is None:
            run.start_time = now
        if status in TERMINAL:
            run.end_time = now
            run.holds_node = False
        if error is not None:
            run.error = {"error": error, "time": utc(now)}

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
        if status == "CancelRequested":
            run.job.stop()
            self._finish_job(run)
            self._set_status(run, "Canceled", {"code": "EarlyTermination" if run.cancel_reason else "Canceled",
                                               "message": run.cancel_reason or "Canceled by the user."})
        elif status == "NotStarted":
            self._set_status(run, "Starting")
        elif status == "Starting":
            self._set_status(run, "Preparing")
            self._prepare(run)
        elif status == "Preparing":
            outcome = run.image.outcome() if run.image is not None else ("ready", self.python)
            if outcome is None:
                return  # the image is still being built
            if outcome[0] != "ready":
                self._set_status(run, "Failed", outcome[1])
                return
            run.python = outcome[1]
            self._set_status(run, "Queued")
        elif status == "Queued":
            occupying = [r for r in self.runs.values() if r.holds_node and r.target == run.target]
            if len(occupying) < self.clusters[run.target]["max_nodes"]:
                run.holds_node = True
                self._start_job(run)
                self._set_status(run, "Running")
            else:  # the service goes on with the runs in the way without being asked
                for other in occupying:
                    self._advance(other)
        elif status == "Running":
            if run.job.poll() is None:
                if run.max_seconds and time.monotonic() - run.running_since > run.max_seconds:
                    run.timed_out = True
                    run.job.stop()
                return
            self._finish_job(run)
            self._set_status(run, "Finalizing")
        elif status == "Finalizing":
            if run.timed_out:
                self._set_status(run, "Canceled", {
                    "code": "RunTimeout", "message": f"The run exceeded max_run_duration_seconds ({run.max_seconds}) "
                                                     "and was canceled."})
            elif run.job.exit_code == 0:
                self._set_status(run, "Completed")
            else:
                self._set_status(run, "Failed", {"code": "UserError",
                                                 "message": run.job.failure_message(self.driver_log)})

    def _prepare(self, run):
        """Start building the run's image (``_fake_image``), unless builds are off."""
        if not self.build_environments:
            return
        run.image = ImageBuild(run.config.run_config.environment, run.job.files_dir / IMAGE_BUILD_LOG,
                               lambda: self._closed or run.status == "CancelRequested", self.python).start()

    def _start_job(self, run):
        run_config = run.config.run_config
        data_paths = {}
        for name, reference in (run_config.data_references or {}).items():
            source = self._datastore_dir(reference.data_store_name) / (reference.path_on_data_store or "")
            data_paths[name] = (reference.mode, source, reference.path_on_compute)
        variables = dict(run_config.environment.environment_variables or {})
        variables.update(run_config.environment_variables or {})  # the run's own win, as on Azure
        run.job.start(run.python or self.python, run.script, run.arguments, variables, data_paths, self.driver_log)
        run.running_since = time.monotonic()

    def _ingest(self, run):
        if run.interactive or run.job.process is None:
            return
        for event in run.job.new_events():
            if event.get("kind") == "metric":
                run.metrics.append((event["name"], event.get("type", "scalar"), event.get("value")))
            elif event.get("kind") == "tag":
                run.tags[event["key"]] = event.get("value")

    def _finish_job(self, run):
        self._ingest(run)
        if run.job.process is not None:
            run.job.collect_outputs()

    def get_run(self, run_id):
        with self._lock:
            run = self._run(run_id)
            return {"run_id": run.run_id, "experiment": run.experiment, "status": run.status, "created": run.created,
                    "start_time": run.start_time, "end_time": run.end_time, "script": run.script,
                    "arguments": list(run.arguments), "compute_target": run.target, "tags": dict(run.tags),
                    "error": run.error, "run_type": run.run_type, "parent_run_id": run.parent_run_id,
                    "properties": {}}

    def get_details(self, run_id):
        with self._lock:
            run = self._run(run_id)
            details = {"runId": run.run_id, "target": run.target or "local", "status": run.status,
                       "startTimeUtc": utc(run.start_time), "endTimeUtc": utc(run.end_time),
                       "properties": {"azureml.runsource": "experiment" if not run.interactive else "interactive"},
                       "inputDatasets": [], "outputDatasets": [], "runDefinition": self._run_definition(run),
                       "logFiles": {name: (run.job.files_dir / name).resolve().as_uri()
                                    for name in self._log_names(run)},
                       "submittedBy": "amlocal FakeAzureAdapter"}
            if run.error:
                details["error"] = run.error
            return details

    @staticmethod
    def _run_definition(run):
        if run.config is None:
            return {}
        # a HyperDrive parent describes its trial (its config's ScriptRunConfig)
        config = run.config.run_config if run.run_type == "hyperdrive" else run.config
        run_config = config.run_config
        environment = run_config.environment
        deps = environment.python.conda_dependencies
        return {
            "script": run.script, "arguments": list(run.arguments), "target": run.target,
            "maxRunDurationSeconds": run_config.max_run_duration_seconds,
            "environment": {"name": environment.name, "docker": {"baseImage": environment.docker.base_image},
                            "python": {"userManagedDependencies": environment.python.user_managed_dependencies,
                                       "condaDependencies": json.loads(json.dumps(deps.as_dict(), default=str))},
                            "environmentVariables": dict(environment.environment_variables or {})},
            "environmentVariables": dict(run_config.environment_variables or {}),
            "dataReferences": {name: {"dataStoreName": ref.data_store_name, "mode": ref.mode,
                                      "pathOnDataStore": ref.path_on_data_store, "pathOnCompute": ref.path_on_compute,
                                      "overwrite": ref.overwrite}
                               for name, ref in (run_config.data_references or {}).items()},
        }

    def status_timeline(self, run_id):
        with self._lock:
            return list(self._run(run_id).timeline)

    def list_runs(self, experiment=None, limit=None):
        with self._lock:
            ids = [r.run_id for r in reversed(list(self.runs.values()))
                   if experiment is None or r.experiment == experiment]
        records = [self.get_run(run_id) for run_id in ids]
        return records[:limit] if limit else records

    def list_experiments(self):
        with self._lock:
            return sorted({run.experiment for run in self.runs.values()})

    def cancel(self, run_id, reason=None):
        with self._lock:
            run = self._run(run_id)
            run.cancel_reason = reason
            if run.status in TERMINAL:
                return
            if run.run_type == "hyperdrive":  # its controller cancels the children, then ends it
                run.cancel_requested = True
                self._set_status(run, "CancelRequested")
                return
            if run.interactive:
                self._set_status(run, "Canceled", {"code": "EarlyTermination" if run.cancel_reason else "Canceled",
                                               "message": run.cancel_reason or "Canceled by the user."})
                return
            self._set_status(run, "CancelRequested")
            run.job.stop()

    def submit_hyperdrive(self, experiment, hyperdrive_config, tags=None, sweep=None, backend=None):
        """As the service: the sweep's parent run samples, starts and early-terminates children
        (``amlocal.sweeps.SweepController``, in a thread of this fake) on the same workspace."""
        from azureml.train.hyperdrive import HyperDriveConfig

        from amlocal.specs import replace
        from amlocal.sweeps import SweepController

        if not isinstance(hyperdrive_config, HyperDriveConfig) or sweep is None or backend is None:
            raise TypeError("submit_hyperdrive takes a real HyperDriveConfig, the SweepSpec it was made from and the "
                            "backend that runs its children")
        with self._lock:
            parent = self._new_run(experiment, run_id=sweep.run_id or f"HD_{secrets.token_hex(16)}",
                                   interactive=True, run_type="hyperdrive", tags=dict(tags or {}),
                                   config=hyperdrive_config)
            self.submissions.append((experiment, hyperdrive_config, dict(tags or {})))
            self._set_status(parent, "Running")
        log = parent.job.files_dir / "azureml-logs" / "hyperdrive.txt"

        def write(line):
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"[{utc(time.time())}]{line}\n")

        def set_status(status, error=None):
            with self._lock:
                self._set_status(parent, status, error and (error.get("error") or error))

        controller = SweepController(parent.run_id, replace(sweep, run_id=parent.run_id), backend,
                                     backend.stores.run_history, write, set_status,
                                     cancel_requested=lambda: parent.cancel_requested)
        threading.Thread(target=self._run_sweep, args=(controller,), daemon=True).start()
        return parent.run_id

    def _run_sweep(self, controller):
        while not self._closed and not controller.step():
            time.sleep(self.poll_interval)

    def start_logging(self, experiment, snapshot_directory=None):
        with self._lock:
            run = self._new_run(experiment, interactive=True)
            if snapshot_directory:
                run.job.take_snapshot(snapshot_directory)
            self._set_status(run, "Running")
            return run.run_id

    def end_run(self, run_id, status, error=None):
        with self._lock:
            run = self._run(run_id)
            if run.status in TERMINAL:
                return
            detail = None
            if error:
                detail = {"code": error.get("code") or "UserError", "message": error.get("message") or ""}
            self._set_status(run, status, detail)

    def portal_url(self, run_id):
        self._run(run_id)
        return (f"https://ml.azure.com/runs/{run_id}?wsid=/subscriptions/{self.subscription_id}/resourcegroups/"
                f"{self.resource_group}/workspaces/{self.workspace_name}&tid={FAKE_TENANT}")

    # -- what a run recorded -------------------------------------------------------------------
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        with self._lock:
            self._run(run_id).metrics.append((name, kind, json.loads(json.dumps(value))))

    def get_metrics(self, run_id, name=None, populate=False):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return metric_rules.aggregate((row for row in run.metrics if name is None or row[0] == name), run_id,
                                          populate)

    def set_tags(self, run_id, tags):
        with self._lock:
            self._run(run_id).tags.update(tags)

    def get_tags(self, run_id):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return dict(run.tags)

    def _files(self, run):
        root = run.job.files_dir
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def list_files(self, run_id):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return self._files(run)

    def download_file(self, run_id, name, output_file_path):
        from azureml.exceptions import UserErrorException

        with self._lock:
            run = self._run(run_id)
            files = self._files(run)
            if name not in files:
                raise UserErrorException(f"File with path {name} was not found,\navailable files include: "
                                         f"{', '.join(files)}.")
            target = Path(output_file_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run.job.files_dir / name, target)

    def upload_file(self, run_id, name, path_or_stream):
        from azureml.exceptions import UserErrorException

        clean = str(name).replace("\\", "/")
        if clean.startswith("/") or ".." in clean.split("/"):
            raise UserErrorException(f"Invalid artifact name {name}: use a relative path without '..'.")
        with self._lock:
            target = self._run(run_id).job.files_dir / clean
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path_or_stream, target)

    def _log_names(self, run):
        return [name for name in self._files(run) if STREAMED_LOG.match(name)]

    def log_names(self, run_id):
        with self._lock:
            return self._log_names(self._run(run_id))

    def read_log(self, run_id, name):
        with self._lock:
            path = self._run(run_id).job.files_dir / name
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    # -- models --------------------------------------------------------------------------------
    def register_model(self, name, model_path, tags=None, properties=None, description=None, model_framework=None,
                       model_framework_version=None):
        return self.models.add(name, model_path, None, tags, properties, description, model_framework,
                               model_framework_version)

    def register_model_from_run(self, run_id, name, model_path, tags=None, properties=None, description=None,
                                model_framework=None, model_framework_version=None):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return self.models.add_from_run(run_id, self._files(run), run.job.files_dir, name, model_path, tags=tags,
                                            properties=properties, description=description,
                                            model_framework=model_framework,
                                            model_framework_version=model_framework_version)

    def get_model(self, name, version=None):
        return self.models.get(name, version)

    def list_models(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        return self.models.list(name, tags, properties, run_id, latest)

    def download_model(self, name, version, target_dir, exist_ok=False):
        return self.models.download(name, version, target_dir, exist_ok)

    def delete_model(self, name, version):
        self.models.delete(name, version)


@contextlib.contextmanager
def mock_azureml(adapter=None, **fake_options):
    """Within the block, azureml-backend workspaces without an ``adapter`` option use ``adapter``
    (by default a new FakeAzureAdapter(**fake_options), closed at the end). Yields the adapter."""
    from . import stores

    created = adapter is None
    adapter = FakeAzureAdapter(**fake_options) if created else adapter
    stores.ADAPTER_OVERRIDES.append(adapter)
    try:
        yield adapter
    finally:
        stores.ADAPTER_OVERRIDES.remove(adapter)
        if created:
            adapter.close()

