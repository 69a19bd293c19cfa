"""``FakeAzureAdapter``: a stateful stand-in for one Azure ML workspace, for tests (moto-style).

Use it to test code that targets the ``azureml`` backend without an Azure subscription::

    fake = FakeAzureAdapter()
    fake.add_cluster("cpu-cluster", vm_size="STANDARD_D2_V2", max_nodes=4)
    ws = Workspace.from_config(backend="azureml", backend_options={"adapter": fake})

It behaves as the service does, as far as a training workflow can tell:

* runs move through Azure's statuses one step per ``get_status`` poll: NotStarted, Queued,
  Preparing, Starting, Running, Finalizing, then Completed or Failed (CancelRequested then
  Canceled after ``cancel``). Running lasts as long as the script does: the entry script of the
  snapshot really runs (``_fake_job``), so metrics, logs and ./outputs are the script's own;
  a run waits Queued while ``max_nodes`` runs of its cluster are active;
* clusters (``_fake_compute``), datastore files, runs and models (``_fake_models``, versions 1,
  2, 3 per name) are kept in memory and under ``root``; an unknown vm size, too small a vCPU
  quota (``core_quota``) or a failure planted with ``fail_provisioning`` fail the way Azure does;
* errors are the real SDK's exception types with the SDK's messages.

``mock_azureml()`` makes a fake the adapter of every azureml-backend workspace that names none,
so code that only says ``Workspace.from_config()`` (with AMLOCAL_BACKEND=azureml) runs against it.

Everything Azure would be asked is recorded for assertions: ``submissions`` (experiment, the real
ScriptRunConfig, tags) and ``provisioning_configurations`` (cluster name -> the real config).
State lives in this object: another process (or another FakeAzureAdapter) does not see it.
"""

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.exceptions import EnvironmentNotFoundError
from amlocal.local import DirectoryDatastores
from amlocal.rules import metrics as metric_rules
from amlocal.rules.names import new_run_id
from amlocal.rules.statuses import ORDER, TERMINAL
from amlocal_azure.fake_assets import DEFAULT_FAILURE, FakeEnvironments
from amlocal_azure.fake_jobs import FakeDatastoreFiles, FakeRun, FakeRunner
from amlocal_azure.times import utc

from ._fake_compute import FakeV1Clusters
from ._fake_job import FakeJob
from ._fake_models import FakeV1Models
from .adapter import STREAMED_LOG, AzureAdapter
from .translate import from_environment, offline_workspace, to_environment

DEFAULT_DATASTORES = ("workspaceblobstore", "workspacefilestore")
CANCELED_BY_USER = {"code": "Canceled", "message": "Canceled by the user."}


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
    metrics: list = field(default_factory=list)  # (name, kind, value) in logging order


class FakeV1Environments(FakeEnvironments):
    def _not_found(self, name, version):
        return EnvironmentNotFoundError(f"Environment {name!r}" + (f" version {version}" if version else "") +
                                        f" was not found in workspace {self.workspace}.")


class FakeAzureAdapter(FakeRunner, FakeDatastoreFiles, AzureAdapter):
    poll_interval = 0.05
    #: SDK v1's run statuses before a final one (``amlocal.rules.statuses.ORDER``)
    lifecycle = ORDER

    def __init__(self, root=None, subscription_id="00000000-0000-0000-0000-000000000000",
                 resource_group="amlocal-fake-rg", workspace_name="amlocal-fake-ws", location="eastus",
                 vm_sizes=None, core_quota=None, python=None, driver_log="azureml-logs/70_driver_log.txt"):
        super().__init__()
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="amlocal-fake-azure-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.location = location
        self.python = python or sys.executable
        self.driver_log = driver_log
        self.workspace = offline_workspace(subscription_id, resource_group, workspace_name, location)
        self.compute = FakeV1Clusters(location, vm_sizes, core_quota)
        self.models = FakeV1Models(self.root / "models", workspace_name)
        self.environment_registry = FakeV1Environments(workspace_name)
        self.datastores = set(DEFAULT_DATASTORES)
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
    def environments(self):
        """name -> [EnvironmentSpec of version 1, 2, ...] of the registered environments."""
        return self.environment_registry.versions

    # -- seeding (what an existing workspace already has) -------------------------------------
    def add_cluster(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        """An existing, provisioned cluster."""
        self.compute.add(name, vm_size, max_nodes, min_nodes, vm_priority)

    def add_datastore(self, name):
        with self._lock:
            self.datastores.add(name)

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        """The next provisioning of cluster ``name`` ends Failed with ``message``."""
        self.compute.fail_provisioning(name, message)

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
        from azureml.data.azure_storage_datastore import AzureBlobDatastore

        self._datastore_dir(name)
        return AzureBlobDatastore(self.workspace, name, f"azureml-blobstore-{self.workspace_name.lower()}",
                                  "amlocalfakestorage")

    def _files_of(self, name):
        self._datastore_dir(name)
        return DirectoryDatastores(self.root / "datastores")

    def list_datastores(self):
        return sorted(self.datastores)

    def datastore_path_exists(self, datastore_name, path):
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
        return CANCELED_BY_USER

    def _timeout_error(self, run):
        return {"code": "RunTimeout",
                "message": f"The run exceeded max_run_duration_seconds ({run.max_seconds}) and was canceled."}

    def _failure_error(self, run):
        return {"code": "UserError", "message": run.job.failure_message(self.driver_log)}

    def _error_record(self, error, now):
        return {"error": error, "time": utc(now)}

    def _start(self, run):
        run_config = run.submitted.run_config
        data_paths = {}
        for name, reference in (run_config.data_references or {}).items():
            source = self._datastore_dir(reference.data_store_name) / (reference.path_on_data_store or "")
            data_paths[name] = (reference.mode, source, reference.path_on_compute)
        variables = dict(run_config.environment.environment_variables or {})
        variables.update(run_config.environment_variables or {})  # the run's own win, as on Azure
        run.job.start(self.python, run.script, run.arguments, variables, data_paths, self.driver_log)

    def _ingest(self, run):
        if run.interactive or run.job.process is None:
            return
        for event in run.job.new_events():
            if event.get("kind") == "metric":
                run.metrics.append((event["name"], event.get("type", "scalar"), event.get("value")))
            elif event.get("kind") == "tag":
                run.tags[event["key"]] = event.get("value")

    # -- runs ----------------------------------------------------------------------------------
    def _new_run(self, experiment, **fields):
        run_id = new_run_id(experiment)
        return self._add(FakeV1Run(run_id, experiment, FakeJob(self.root / "runs" / run_id, run_id, experiment),
                                   **fields))

    def submit(self, experiment, script_run_config, tags=None):
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
                                max_seconds=run_config.max_run_duration_seconds)
            run.job.take_snapshot(script_run_config.source_directory)
            self.submissions.append((experiment, script_run_config, dict(tags or {})))
            return run.run_id

    def get_run(self, run_id):
        with self._lock:
            run = self._run(run_id)
            return {"run_id": run.run_id, "experiment": run.experiment, "status": run.status, "created": run.created,
                    "start_time": run.start_time, "end_time": run.end_time, "script": run.script,
                    "arguments": list(run.arguments), "compute_target": run.target, "tags": dict(run.tags),
                    "error": run.error}

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
        run_config = run.submitted.run_config
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
