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

import json
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.exceptions import EnvironmentNotFoundError
from amlocal.local import DirectoryDatastores
from amlocal.rules import metrics as metric_rules
from amlocal.rules.names import new_run_id
from amlocal.rules.statuses import AMLCOMPUTE_ORDER, PREPARING, TERMINAL
from amlocal_azure.fake_assets import DEFAULT_FAILURE, FakeEnvironments
from amlocal_azure.fake_jobs import FakeDatastoreFiles, FakeRun, FakeRunner
from amlocal_azure.times import utc

from . import datastore_access
from ._fake_compute import FakeV1Clusters
from ._fake_image import IMAGE_BUILD_LOG, ImageBuild
from ._fake_job import FakeJob
from ._fake_models import FakeV1Models
from ._fake_services import FakeServices
from .adapter import STREAMED_LOG, AzureAdapter
from .translate import from_environment, offline_workspace, to_environment

#: name -> (kind, credential type) of the datastores every workspace starts with
DEFAULT_DATASTORES = {"workspaceblobstore": ("AzureBlob", "AccountKey"), "workspacefilestore": ("AzureFile", "AccountKey")}
CREDENTIAL_TYPES = ("AccountKey", "Sas", "None")


def _service_exception(status, code, message):
    """A real ``ServiceException`` as the run history client raises it."""
    from types import SimpleNamespace

    from azureml._restclient.exceptions import ServiceException

    inner = SimpleNamespace(message=message, response=SimpleNamespace(status_code=status, headers={}),
                            error=SimpleNamespace(error=SimpleNamespace(code=code, message=message, details=[])))
    return ServiceException(inner)


@dataclass
class FakeV1Run(FakeRun):
    script: str = None
    arguments: list = field(default_factory=list)
    run_type: str = "azureml.scriptrun"
    parent_run_id: str = None
    cancel_requested: bool = False
    cancel_reason: str = None
    metrics: list = field(default_factory=list)  # (name, kind, value) in logging order
    image: object = None             # the ImageBuild of its Preparing
    python: str = None               # the interpreter its image provides


class FakeV1Environments(FakeEnvironments):
    def _not_found(self, name, version):
        return EnvironmentNotFoundError(f"Environment {name!r}" + (f" version {version}" if version else "") +
                                        f" was not found in workspace {self.workspace}.")


class FakeAzureAdapter(FakeRunner, FakeDatastoreFiles, FakeServices, AzureAdapter):
    poll_interval = 0.05
    #: the statuses Azure documents for AmlCompute runs before a final one
    lifecycle = AMLCOMPUTE_ORDER

    def __init__(self, root=None, subscription_id="00000000-0000-0000-0000-000000000000",
                 resource_group="amlocal-fake-rg", workspace_name="amlocal-fake-ws", location="eastus",
                 vm_sizes=None, core_quota=None, python=None, driver_log="azureml-logs/70_driver_log.txt",
                 build_environments=True):
        super().__init__()
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
        self.compute = FakeV1Clusters(location, vm_sizes, core_quota, subscription_id)
        self.models = FakeV1Models(self.root / "models", workspace_name)
        self.environment_registry = FakeV1Environments(workspace_name)
        #: name -> (kind, credential type)
        self.datastores = dict(DEFAULT_DATASTORES)
        #: datastores whose storage answers 403 to every transfer (``deny_datastore_access``)
        self.denied_datastores = set()
        #: (experiment, the real ScriptRunConfig, tags) of every submit, in order
        self.submissions = []

    @property
    def clusters(self):
        return self.compute.clusters

    @property
    def provisioning_configurations(self):
        """cluster name -> the real AmlComputeProvisioningConfiguration last received."""
        return self.compute.received

    @property
    def create_requests(self):
        """cluster name -> the body of the create request the SDK sends for it."""
        return self.compute.create_requests

    @property
    def environments(self):
        """name -> [EnvironmentSpec of version 1, 2, ...] of the registered environments."""
        return self.environment_registry.versions

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
        super().close()

    # -- compute -------------------------------------------------------------------------------
    def get_compute(self, name):
        return self.compute.get(name)

    def create_compute(self, name, provisioning_configuration):
        return self.compute.create_from(name, provisioning_configuration)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        return self.compute.wait(name, show_output)

    def list_computes(self):
        return self.compute.list()

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

    def list_datastores(self):
        return sorted(self.datastores)

    def datastore_path_exists(self, datastore_name, path):
        if not datastore_access.paths_checkable(self.get_datastore(datastore_name)):
            return True  # as the SDK adapter: no key to look with, Azure checks it when the job mounts it
        target = self._datastore_dir(datastore_name) / (path or "").strip("/")
        return target.is_file() or (target.is_dir() and any(p.is_file() for p in target.rglob("*")))

    # -- environments ---------------------------------------------------------------------------
    def register_environment(self, environment):
        return self.environment_registry.add(environment.name, from_environment(environment))

    def get_environment(self, name, version=None):
        return self.environment_registry.get(name, version)

    def get_sdk_environment(self, name):
        return to_environment(self.get_environment(name))

    def list_environments(self):
        return self.environment_registry.list()

    # -- runs: what the service does its own way ------------------------------------------------
    def _no_such_run(self, run_id):
        return _service_exception(404, "RunNotFound", f"Run {run_id} was not found")

    def _canceled_error(self, run):
        return {"code": "EarlyTermination" if run.cancel_reason else "Canceled",
                "message": run.cancel_reason or "Canceled by the user."}

    def _timeout_error(self, run):
        return {"code": "RunTimeout",
                "message": f"The run exceeded max_run_duration_seconds ({run.max_seconds}) and was canceled."}

    def _failure_error(self, run):
        return {"code": "UserError", "message": run.job.failure_message(self.driver_log)}

    def _error_record(self, error, now):
        return {"error": error, "time": utc(now)}

    def _entered(self, run, status):
        """Preparing builds the run's image (``_fake_image``), unless builds are off."""
        if status == PREPARING and self.build_environments:
            run.image = ImageBuild(run.submitted.run_config.environment, run.job.files_dir / IMAGE_BUILD_LOG,
                                   lambda: self._closed or run.status == "CancelRequested", self.python).start()

    def _ready(self, run):
        """Preparing lasts as long as the image's build; a failed build fails the run there."""
        if run.status != PREPARING:
            return True
        outcome = run.image.outcome() if run.image is not None else ("ready", self.python)
        if outcome is None:
            return False
        if outcome[0] != "ready":
            return outcome[1]
        run.python = outcome[1]
        return True

    def _start(self, run):
        run_config = run.submitted.run_config
        data_paths = {}
        for name, reference in (run_config.data_references or {}).items():
            source = self._datastore_dir(reference.data_store_name) / (reference.path_on_data_store or "")
            data_paths[name] = (reference.mode, source, reference.path_on_compute)
        variables = dict(run_config.environment.environment_variables or {})
        variables.update(run_config.environment_variables or {})  # the run's own win, as on Azure
        run.job.start(run.python or self.python, run.script, run.arguments, variables, data_paths, self.driver_log)

    def _ingest(self, run):
        if run.interactive or run.job.process is None:
            return
        for event in run.job.new_events():
            if event.get("kind") == "metric":
                run.metrics.append((event["name"], event.get("type", "scalar"), event.get("value")))
            elif event.get("kind") == "tag":
                run.tags[event["key"]] = event.get("value")

    # -- runs ----------------------------------------------------------------------------------
    def _new_run(self, experiment, run_id=None, **fields):
        run_id = run_id or new_run_id(experiment)
        if run_id in self.runs:
            raise _service_exception(409, "RunAlreadyExists", f"A run with id {run_id} already exists")
        return self._add(FakeV1Run(run_id, experiment, FakeJob(self.root / "runs" / run_id, run_id, experiment),
                                   **fields))

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
                                submitted=script_run_config, tags=dict(tags or {}),
                                max_seconds=run_config.max_run_duration_seconds, run_id=run_id,
                                parent_run_id=parent_run_id)
            run.job.take_snapshot(script_run_config.source_directory)
            self.submissions.append((experiment, script_run_config, dict(tags or {})))
            return run.run_id

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
        if run.submitted is None:
            return {}
        # a HyperDrive parent describes its trial (its config's ScriptRunConfig)
        config = run.submitted.run_config if run.run_type == "hyperdrive" else run.submitted
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
        return [self.get_run(run_id) for run_id in self._newest_first(experiment, limit)]

    def cancel(self, run_id, reason=None):
        with self._lock:
            run = self._run(run_id)
            run.cancel_reason = reason
            if run.run_type == "hyperdrive" and run.status not in TERMINAL:
                # its controller cancels the children, then ends it
                run.cancel_requested = True
                self._set_status(run, "CancelRequested")
                return
            super().cancel(run_id)

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
                                   submitted=hyperdrive_config)
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
        return self._studio_url(run_id)

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

    def list_files(self, run_id):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return run.job.files()

    def download_file(self, run_id, name, output_file_path):
        from azureml.exceptions import UserErrorException

        with self._lock:
            run = self._run(run_id)
            files = run.job.files()
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
        return [name for name in run.job.files() if STREAMED_LOG.match(name)]

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
        return self.models.add(name, model_path, run_id=None, tags=tags, properties=properties,
                               description=description, model_framework=model_framework,
                               model_framework_version=model_framework_version)

    def register_model_from_run(self, run_id, name, model_path, tags=None, properties=None, description=None,
                                model_framework=None, model_framework_version=None):
        with self._lock:
            run = self._run(run_id)
            self._ingest(run)
            return self.models.add_from_run(run_id, run.job.files(), run.job.files_dir, name, model_path, tags=tags,
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


def mock_azureml(adapter=None, **fake_options):
    """Within the block, azureml-backend workspaces without an ``adapter`` option use ``adapter``
    (by default a new FakeAzureAdapter(**fake_options), closed at the end). Yields the adapter."""
    from .stores import ADAPTER

    return ADAPTER.mock(adapter, FakeAzureAdapter, **fake_options)
