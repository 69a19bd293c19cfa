"""``FakeV2Adapter``: a stateful stand-in for one Azure ML workspace seen through SDK v2, for tests.

Use it to test code that targets the ``azureml-v2`` backend without an Azure subscription::

    fake = FakeV2Adapter()
    fake.add_cluster("cpu-cluster", vm_size="STANDARD_D2_V2", max_nodes=4)
    ws = Workspace.from_config(backend="azureml-v2", backend_options={"adapter": fake})

It behaves as the service does, as far as a training workflow can tell:

* ``submit`` takes the real ``Command`` job the backend built and keeps a copy of its code;
* jobs move through SDK v2's statuses in the service's documented order, one step per
  ``get_status`` poll: NotStarted, Starting, Preparing, Queued, Running, Finalizing, then
  Completed or Failed (CancelRequested then Canceled after ``cancel``; Canceled when the job
  outlives ``limits.timeout``). Running lasts as long as the command does: the job's command
  line really runs (``_fake_job``), with its inputs in place, so logs, files and metrics are
  the script's own; a job waits Queued while ``max_nodes`` jobs hold its cluster;
* the script's MLflow calls (made by amlocal's shim) reach a stand-in ``mlflow`` package that
  records them; they become the job's metric series, tags and artifacts here;
* clusters, datastore files, model versions and registered environments are kept
  (``_fake_assets``); curated environments (AzureML-...) are known as amlocal's table knows
  them; errors are azure-core's and azure-ai-ml's own types with the service's error body.

``mock_azureml_v2()`` makes a fake the adapter of every azureml-v2 workspace that names none.
Everything Azure would be asked is recorded: ``submissions`` (the real Command jobs) and
``computes_received`` (cluster name -> the real AmlCompute). State lives in this object.
"""

import contextlib
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.local import DirectoryDatastores
from amlocal.rules.statuses import TERMINAL
from amlocal.rules.names import new_run_id

from . import translate
from ._fake_assets import DEFAULT_FAILURE, JOB_ARTIFACT, FakeClusters, FakeDatastores, FakeEnvironments, FakeModels
from ._paths import inside
from ._fake_errors import http_error, ml_exception, not_found
from ._fake_job import FakeJobProcess
from .adapter import STATUS_ORDER, AzureMLV2Adapter

#: The service's documented order, without Provisioning ("not used currently").
LIFECYCLE = tuple(status for status in STATUS_ORDER if status != "Provisioning")
FAKE_TENANT = "00000000-0000-0000-0000-000000000000"
FAKE_MLFLOW_HOST = "eastus.api.azureml.ms"


@dataclass
class FakeJob:
    name: str
    experiment: str
    process: FakeJobProcess
    job: object = None                 # the real Command submitted
    compute: str = None
    interactive: bool = False
    status: str = "NotStarted"
    created: float = field(default_factory=time.time)
    start_time: float = None
    end_time: float = None
    tags: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)   # key -> [(step, timestamp ms, value)]
    error: dict = None
    holds_node: bool = False
    running_since: float = None
    timeout: int = None
    timed_out: bool = False
    polled: bool = False


class FakeV2Adapter(AzureMLV2Adapter):
    poll_interval = 0.05

    def __init__(self, root=None, subscription_id="00000000-0000-0000-0000-000000000000",
                 resource_group="amlocal-fake-rg", workspace_name="amlocal-fake-ws", location="eastus",
                 vm_sizes=None, core_quota=None, python=None):
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="amlocal-fake-azure-v2-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.subscription_id, self.resource_group, self.workspace_name = subscription_id, resource_group, workspace_name
        self.location = location
        self.python = python or sys.executable
        self.compute = FakeClusters(workspace_name, location, vm_sizes, core_quota)
        self.datastores = FakeDatastores(self.root / "datastores", workspace_name)
        self.models = FakeModels(self.root / "models", workspace_name)
        self.environments = FakeEnvironments(workspace_name)
        self.jobs = {}
        #: the real Command job of every submit, in order
        self.submissions = []
        self._lock = threading.RLock()

    @property
    def computes_received(self):
        return self.compute.received

    # -- seeding ---------------------------------------------------------------------------------
    def add_cluster(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        self.compute.add(name, vm_size, max_nodes, min_nodes, vm_priority)

    def add_datastore(self, name, kind="AzureBlob"):
        self.datastores.add(name, kind)

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        self.compute.fail_provisioning(name, message)

    def close(self):
        """Stop every command still running."""
        with self._lock:
            for job in self.jobs.values():
                job.process.stop()

    # -- jobs ------------------------------------------------------------------------------------
    def _job(self, name):
        job = self.jobs.get(name)
        if job is None:
            raise not_found("Job", name, self.workspace_name)
        return job

    def submit(self, job):
        from azure.ai.ml.entities import Command

        if not isinstance(job, Command):
            raise ml_exception(f"submit takes an azure.ai.ml command() job, got {type(job).__name__}")
        name = job.name or new_run_id(job.experiment_name)
        with self._lock:
            if name in self.jobs:
                raise http_error(409, "UserError", f"A job with name {name} already exists.")
            self.compute.cluster(job.compute)
            for input_name, value in (job.inputs or {}).items():
                self._input_source(value)  # a missing datastore fails at submit, as the service validates it
            process = FakeJobProcess(self.root / "jobs" / name, name)
            process.take_snapshot(job.component.code)
            limits = getattr(job, "limits", None)
            record = FakeJob(name, job.experiment_name, process, job=job, compute=job.compute,
                             tags=dict(job.tags or {}), timeout=getattr(limits, "timeout", None))
            self.jobs[name] = record
            self.submissions.append(job)
            return name

    def _input_source(self, value):
        """(mode, local path) of a job input given as azureml://datastores/<ds>/paths/<path>."""
        path = getattr(value, "path", None) or ""
        prefix = "azureml://datastores/"
        if not path.startswith(prefix) or "/paths/" not in path:
            raise ml_exception(f"The fake workspace only resolves datastore inputs (azureml://datastores/...), "
                               f"got {path!r}")
        datastore, _, relative = path[len(prefix):].partition("/paths/")
        source = inside(self.datastores.directory(datastore), relative)
        if not source.exists():
            raise http_error(400, "UserError", f"Input path {path} was not found in datastore {datastore}.")
        return value.mode or "ro_mount", source

    def _set_status(self, job, status, error=None):
        job.status = status
        now = time.time()
        if status == "Running" and job.start_time is None:
            job.start_time = now
        if status in TERMINAL:
            job.end_time = now
            job.holds_node = False
        if error is not None:
            job.error = error

    def get_status(self, name):
        with self._lock:
            job = self._job(name)
            if job.polled:  # the first poll sees the status the job was created with
                self._advance(job)
            job.polled = True
            return job.status

    def _advance(self, job):
        """One step of the job's life, as the service would take it by the next poll."""
        if job.status in TERMINAL or job.interactive:
            return
        self._ingest(job)
        status = job.status
        if status == "CancelRequested":
            job.process.stop()
            self._finish(job)
            self._set_status(job, "Canceled", {"code": "UserError", "message": "Job was canceled by the user."})
        elif status == "Queued":
            holding = [j for j in self.jobs.values() if j.holds_node and j.compute == job.compute]
            if len(holding) < self.compute.cluster(job.compute)["max_nodes"]:
                job.holds_node = True
                self._start(job)
                self._set_status(job, "Running")
            else:  # the service goes on with the jobs in the way without being asked
                for other in holding:
                    self._advance(other)
        elif status in ("NotStarted", "Starting", "Preparing"):
            self._set_status(job, LIFECYCLE[LIFECYCLE.index(status) + 1])
        elif status == "Running":
            if job.process.poll() is None:
                if job.timeout and time.monotonic() - job.running_since > job.timeout:
                    job.timed_out = True
                    job.process.stop()
                return
            self._finish(job)
            self._set_status(job, "Finalizing")
        elif status == "Finalizing":
            if job.timed_out:
                self._set_status(job, "Canceled", {"code": "JobTimeout", "message": (
                    f"The job exceeded its limits.timeout ({job.timeout} seconds, the run's max_run_duration_seconds) "
                    "and was canceled.")})
            elif job.process.exit_code == 0:
                self._set_status(job, "Completed")
            else:
                self._set_status(job, "Failed", {"code": "UserError", "message": job.process.failure_message()})

    def _start(self, job):
        command = job.job
        inputs = {name: self._input_source(value) for name, value in (command.inputs or {}).items()}
        tracking = (f"azureml://{FAKE_MLFLOW_HOST}/mlflow/v2.0/subscriptions/{self.subscription_id}/resourceGroups/"
                    f"{self.resource_group}/providers/Microsoft.MachineLearningServices/workspaces/"
                    f"{self.workspace_name}")
        mlflow_variables = {"MLFLOW_TRACKING_URI": tracking, "MLFLOW_RUN_ID": job.name,
                            "MLFLOW_EXPERIMENT_NAME": job.experiment, "MLFLOW_TRACKING_TOKEN": "fake-token"}
        job.process.start(self.python, command.command, inputs, command.environment_variables, mlflow_variables,
                          has_mlflow=self._environment_has_mlflow(command.environment))
        job.running_since = time.monotonic()

    @staticmethod
    def _environment_has_mlflow(environment):
        """Curated Azure ML environments carry mlflow + azureml-mlflow; others when their conda file lists mlflow."""
        if isinstance(environment, str):
            return True
        conda = getattr(environment, "conda_file", None) or {}
        for dependency in conda.get("dependencies", []) if isinstance(conda, dict) else []:
            if isinstance(dependency, dict) and translate.has_mlflow(dependency.get("pip", [])):
                return True
        return False

    def _finish(self, job):
        self._ingest(job)
        if job.process.process is not None:
            job.process.collect_outputs()

    def _ingest(self, job):
        for call in job.process.new_calls():
            if call.get("run_id") != job.name:
                continue  # another run id: not this job's MLflow run
            self._apply(job, call)

    def _apply(self, job, call):
        op = call.get("op")
        if op == "log_metric":
            job.metrics.setdefault(call["key"], []).append((call.get("step") or 0, call.get("timestamp"),
                                                            call["value"]))
        elif op == "log_batch":
            for metric in call.get("metrics", []):
                job.metrics.setdefault(metric["key"], []).append((metric.get("step") or 0, metric.get("timestamp"),
                                                                  metric["value"]))
        elif op == "set_tag":
            job.tags[call["key"]] = call.get("value")

    def get_job(self, name):
        with self._lock:
            job = self._job(name)
            command = job.job
            return {"name": job.name, "experiment": job.experiment,
                    "display_name": getattr(command, "display_name", None),
                    "status": job.status, "created": job.created, "start_time": job.start_time,
                    "end_time": job.end_time, "command": getattr(command, "command", None), "compute": job.compute,
                    "tags": dict(job.tags), "properties": dict(getattr(command, "properties", None) or {}),
                    "error": dict(job.error) if job.error else None}

    def get_details(self, name):
        from ._time import utc  # noqa: F401

        with self._lock:
            job = self._job(name)
            details = {"runId": job.name, "target": job.compute, "status": job.status,
                       "startTimeUtc": utc(job.start_time), "endTimeUtc": utc(job.end_time),
                       "properties": dict(getattr(job.job, "properties", None) or {}),
                       "logFiles": self._log_names(job), "warnings": []}
            if job.error:
                details["error"] = dict(job.error)
            return details

    def list_jobs(self, experiment=None, limit=None):
        with self._lock:
            names = [j.name for j in sorted(self.jobs.values(), key=lambda j: j.created, reverse=True)
                     if experiment is None or j.experiment == experiment]
        records = [self.get_job(name) for name in names]
        return records[:limit] if limit else records

    def list_experiments(self):
        with self._lock:
            return sorted({job.experiment for job in self.jobs.values()})

    def cancel(self, name):
        with self._lock:
            job = self._job(name)
            if job.status in TERMINAL:
                return
            if job.interactive:
                self._set_status(job, "Canceled")
                return
            self._set_status(job, "CancelRequested")
            job.process.stop()

    def studio_url(self, name):
        with self._lock:
            self._job(name)
        return (f"https://ml.azure.com/runs/{name}?wsid=/subscriptions/{self.subscription_id}/resourcegroups/"
                f"{self.resource_group}/workspaces/{self.workspace_name}&tid={FAKE_TENANT}")

    # -- logs --------------------------------------------------------------------------------------
    def _files(self, job, prefix=""):
        root = job.process.artifacts_dir
        base = inside(root, prefix)
        if base.is_file():
            return [base.relative_to(root).as_posix()]
        return sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file() and not p.is_symlink())

    def _log_names(self, job):
        return [n for n in self._files(job) if n.startswith(("user_logs/", "azureml-logs/", "system_logs/"))]

    def log_names(self, name):
        with self._lock:
            return self._log_names(self._job(name))

    def read_log(self, name, log_name, offset=0):
        with self._lock:
            path = inside(self._job(name).process.artifacts_dir, log_name)
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                return handle.read()
        except OSError:
            return b""

    # -- the job's MLflow run ------------------------------------------------------------------------
    def metric_histories(self, name):
        with self._lock:
            job = self._job(name)
            self._ingest(job)
            return {key: list(points) for key, points in job.metrics.items()}

    def get_tags(self, name):
        with self._lock:
            job = self._job(name)
            self._ingest(job)
            return dict(job.tags)

    def list_artifacts(self, name, path=""):
        with self._lock:
            job = self._job(name)
            self._ingest(job)
            return self._files(job, path)

    def download_artifact(self, name, path, target_file):
        with self._lock:
            job = self._job(name)
            source = inside(job.process.artifacts_dir, path)
            if not source.is_file() or path not in self._files(job):
                from mlflow.exceptions import MlflowException

                raise MlflowException(f"Artifact {path} of run {name} was not found.",
                                      error_code="RESOURCE_DOES_NOT_EXIST")
        Path(target_file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target_file)

    def log_metric(self, name, key, value, step):
        with self._lock:
            self._apply(self._job(name), {"op": "log_metric", "key": key, "value": float(value), "step": step,
                                          "timestamp": int(time.time() * 1000)})

    def log_batch(self, name, items):
        stamp = int(time.time() * 1000)
        with self._lock:
            self._apply(self._job(name), {"op": "log_batch", "metrics": [
                {"key": k, "value": float(v), "step": s, "timestamp": stamp} for k, v, s in items]})

    def log_dict(self, name, dictionary, artifact_file):
        import json

        with self._lock:
            target = inside(self._job(name).process.artifacts_dir, artifact_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dictionary, allow_nan=True), encoding="utf-8")

    def set_tag(self, name, key, value):
        with self._lock:
            self._apply(self._job(name), {"op": "set_tag", "key": key, "value": str(value)})

    def log_artifact(self, name, local_path, artifact_path=None):
        relative = f"{artifact_path.strip('/')}/{Path(local_path).name}" if artifact_path else Path(local_path).name
        with self._lock:
            target = inside(self._job(name).process.artifacts_dir, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local_path, target)

    def start_run(self, experiment):
        with self._lock:
            name = new_run_id(experiment)
            job = FakeJob(name, experiment, FakeJobProcess(self.root / "jobs" / name, name), interactive=True)
            self._set_status(job, "Running")
            self.jobs[name] = job
            return name

    def end_run(self, name, status):
        with self._lock:
            job = self._job(name)
            if job.status not in TERMINAL:
                self._set_status(job, status)

    # -- models --------------------------------------------------------------------------------------
    def create_model(self, model):
        from azure.ai.ml.entities import Model

        if not isinstance(model, Model):
            raise ml_exception(f"create_model takes an azure.ai.ml.entities.Model, got {type(model).__name__}")
        address = str(model.path)
        match = JOB_ARTIFACT.match(address)
        if match:
            with self._lock:
                job = self._job(match.group("job"))
                source = inside(job.process.artifacts_dir, match.group("path"))
            if not source.exists():
                raise http_error(400, "UserError", f"The path {address} does not exist among the job's outputs.")
            return self.models.add(model, source, job_name=match.group("job"), source_address=address)
        if not Path(address).exists():
            raise ml_exception(f"The model path {address} does not exist.")
        return self.models.add(model, Path(address))

    def get_model(self, name, version=None):
        return self.models.get(name, version)

    def list_models(self, name=None):
        return self.models.list(name)

    def download_model(self, name, version, target_dir):
        return self.models.download(name, version, target_dir)

    def delete_model(self, name, version):
        self.models.delete(name, version)

    # -- environments --------------------------------------------------------------------------------
    def register_environment(self, environment):
        return self.environments.register(environment)

    def get_environment(self, name, version=None):
        return self.environments.get(name, version)

    def list_environments(self):
        return self.environments.list()

    # -- compute -------------------------------------------------------------------------------------
    def get_compute(self, name):
        return self.compute.get(name)

    def create_compute(self, compute):
        return self.compute.create(compute)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        return self.compute.wait(name, show_output)

    def list_computes(self):
        return self.compute.list()

    # -- datastores ----------------------------------------------------------------------------------
    def _files_of(self, datastore):
        """The blob datastore's files, as directories (refusing other kinds as the real adapter does)."""
        self.datastores.directory(datastore, blob_only=True)
        return DirectoryDatastores(self.datastores.root)

    def list_datastores(self):
        return sorted(self.datastores.types)

    def upload_files(self, datastore, files, overwrite=False, show_progress=True):
        return self._files_of(datastore).upload(datastore, files, overwrite, show_progress)

    def download_files(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        return self._files_of(datastore).download(datastore, target_path, prefix, overwrite, show_progress)

    def list_datastore_files(self, datastore, prefix=None):
        return self._files_of(datastore).list(datastore, prefix)

    def datastore_path_kind(self, datastore, path):
        target = inside(self.datastores.directory(datastore, blob_only=True), path)
        if target.is_file():
            return "file"
        if target.is_dir() and any(p.is_file() for p in target.rglob("*")):
            return "folder"
        return None


@contextlib.contextmanager
def mock_azureml_v2(adapter=None, **fake_options):
    """Within the block, azureml-v2 workspaces without an ``adapter`` option use ``adapter`` (by
    default a new FakeV2Adapter(**fake_options), closed at the end). Yields the adapter."""
    from . import stores

    created = adapter is None
    adapter = FakeV2Adapter(**fake_options) if created else adapter
    stores.ADAPTER_OVERRIDES.append(adapter)
    try:
        yield adapter
    finally:
        stores.ADAPTER_OVERRIDES.remove(adapter)
        if created:
            adapter.close()
