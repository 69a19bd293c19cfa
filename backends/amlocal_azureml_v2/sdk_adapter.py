"""``SdkV2Adapter``: the AzureMLV2Adapter over the real ``azure-ai-ml`` SDK (MLClient), the
workspace's MLflow tracking (``mlflow`` + ``azureml-mlflow``) and Azure Storage.

Constructing one (``for_workspace``) signs in (``auth``) and looks the workspace up, so a missing
or rejected credential, or a wrong config.json, fails there, at once, as an amlocal error. After
that each method is one call or one page of calls. Every call is bounded (``auth.Timeouts``):

* MLClient and the azure-identity credential get ``connection_timeout``, ``read_timeout`` and
  ``retry_total``, which azure-core's RequestsTransport and RetryPolicy read;
* Azure Storage clients (datastore files) get the same keywords;
* log files are read with ``requests`` and ``timeout=(connect, read)``, one ranged GET each;
* MLflow reads ``MLFLOW_HTTP_REQUEST_TIMEOUT`` / ``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, which are
  set (when the user has not set them) to the read timeout and the retries.

Nothing here runs in the default test run (it needs Azure); the live tests
(AMLOCAL_AZURE_LIVE=1) run against it. Private azure-ai-ml helpers used, each the one the SDK's
own commands use: ``jobs._runs_operations.get_run_details`` (what ``jobs.stream`` reads log
addresses from) and ``_artifacts._artifact_utilities.get_datastore_info`` (what its uploads use).
"""

import math
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from amlocal.curated_environments import is_curated_name
from amlocal.rules.statuses import TERMINAL
from amlocal_azure.paths import inside
from amlocal_azure.sdk import Recent, blob_names, blob_path_kind, upload_to_container
from amlocal_azure.times import epoch, utc

from . import auth as auth_module
from .adapter import AzureMLV2Adapter
from .errors import sdk_errors

_END_STATUS = {"Completed": "FINISHED", "Failed": "FAILED", "Canceled": "KILLED"}


def _created(entity):
    context = getattr(entity, "creation_context", None)
    return epoch(getattr(context, "created_at", None))


def _job_record(job, details=None):
    properties = dict(getattr(job, "properties", None) or {})
    start, end, error = properties.get("StartTimeUtc"), properties.get("EndTimeUtc"), None
    if details is not None:
        start, end = details.get("startTimeUtc") or start, details.get("endTimeUtc") or end
        error = details.get("error")
    return {"name": job.name, "experiment": job.experiment_name, "display_name": job.display_name,
            "status": job.status, "created": _created(job), "start_time": epoch(start), "end_time": epoch(end),
            "command": getattr(job, "command", None), "compute": getattr(job, "compute", None),
            "tags": dict(job.tags or {}), "properties": properties, "error": error}


def _model_record(model):
    return {"name": model.name, "version": int(model.version), "job_name": getattr(model, "job_name", None),
            "tags": dict(model.tags or {}), "properties": dict(model.properties or {}),
            "description": model.description, "created_time": _created(model), "path": model.path, "id": model.id}


def _compute_record(compute):
    tier = str(getattr(compute, "tier", None) or "dedicated").lower().replace("_", "")
    return {"name": compute.name, "type": compute.type, "vm_size": (getattr(compute, "size", None) or "").upper(),
            "vm_priority": tier, "min_nodes": getattr(compute, "min_instances", 0),
            "max_nodes": getattr(compute, "max_instances", None),
            "provisioning_state": getattr(compute, "provisioning_state", None) or "Unknown"}


class SdkV2Adapter(AzureMLV2Adapter):
    poll_interval = 5.0

    def __init__(self, ml_client, tracking_uri, timeouts=auth_module.Timeouts()):
        """``ml_client``: an ``azure.ai.ml.MLClient`` of an existing workspace; ``tracking_uri``: its
        MLflow tracking address (``ml_client.workspaces.get(...).mlflow_tracking_uri``)."""
        self.ml = ml_client
        self.tracking_uri = tracking_uri
        self.timeouts = timeouts
        self._pollers = {}
        # run history's details: streaming asks for the log list and a log's address in the same poll
        self._run_details = Recent(lambda name: self.ml.jobs._runs_operations.get_run_details(name))
        self._lock = threading.Lock()
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(math.ceil(timeouts.read)))
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(int(timeouts.retries)))

    @classmethod
    def for_workspace(cls, info, auth=None):
        """Sign in with ``auth`` or the credential ``auth.find_credentials`` finds, and open the
        workspace that ``info`` (a WorkspaceInfo: its config.json) names. Raises
        AzureCredentialsError or AzureWorkspaceNotFoundError when that cannot work."""
        from azure.ai.ml import MLClient

        config = info.config or {}
        timeouts = auth_module.Timeouts.in_force(config)  # the variables over config.json, checked
        choice = auth_module.find_credentials(config, os.environ, auth)
        cloud = config.get("cloud")
        described = (f"{info.name} (subscription {info.subscription_id}, resource group {info.resource_group}) "
                     f"with {choice.description}")
        with sdk_errors(f"open workspace {described}", workspace=info.name, timeouts=timeouts.as_tuple()):
            credential = auth_module.build_credential(choice, timeouts, cloud)
            client = MLClient(credential, subscription_id=info.subscription_id,
                              resource_group_name=info.resource_group, workspace_name=info.name,
                              enable_telemetry=False, show_progress=True, **({"cloud": cloud} if cloud else {}),
                              **timeouts.transport_kwargs())
            # Also registers the credential with azureml-mlflow for this tracking address.
            tracking_uri = client.workspaces.get(info.name).mlflow_tracking_uri
        return cls(client, tracking_uri, timeouts)

    def _mlflow(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri)

    def _storage_options(self):
        return self.timeouts.transport_kwargs()

    # -- jobs --------------------------------------------------------------------------------
    def submit(self, job):
        return self.ml.jobs.create_or_update(job).name

    def get_status(self, name):
        return self.ml.jobs.get(name).status

    def get_details(self, name):
        details = self._run_details.get(name, max_age=0)
        error = getattr(details, "error", None)
        inner = getattr(error, "error", None) or error
        result = {"runId": details.run_id, "target": details.target, "status": details.status,
                  "startTimeUtc": utc(epoch(details.start_time_utc)), "endTimeUtc": utc(epoch(details.end_time_utc)),
                  "properties": dict(details.properties or {}), "logFiles": sorted(details.log_files or {}),
                  "warnings": [{"source": getattr(w, "source", None), "message": w.message}
                               for w in (details.warnings or []) if getattr(w, "message", None)]}
        if inner is not None and (getattr(inner, "message", None) or getattr(inner, "code", None)):
            result["error"] = {"code": getattr(inner, "code", None), "message": getattr(inner, "message", None)}
        return result

    def get_job(self, name):
        return _job_record(self.ml.jobs.get(name), self.get_details(name))

    def list_jobs(self, experiment=None, limit=None):
        records = [_job_record(job) for job in self.ml.jobs.list() if job is not None
                   and (experiment is None or job.experiment_name == experiment)]
        records.sort(key=lambda r: r["created"] or 0, reverse=True)
        return records[:limit] if limit else records

    def list_experiments(self):
        return sorted({job.experiment_name for job in self.ml.jobs.list() if job is not None and job.experiment_name})

    def cancel(self, name):
        if self.get_status(name) not in TERMINAL:
            self.ml.jobs.begin_cancel(name)

    def studio_url(self, name):
        return self.ml.jobs.get(name).studio_url

    # -- logs ------------------------------------------------------------------------------------
    def log_names(self, name):
        return sorted(self._run_details.get(name).log_files or {})

    def read_log(self, name, log_name, offset=0):
        import requests

        address = (self._run_details.get(name).log_files or {}).get(log_name)
        if not address:
            return b""
        response = requests.get(address, headers={"Range": f"bytes={int(offset)}-"},
                                timeout=(self.timeouts.connect, self.timeouts.read))
        if response.status_code in (404, 416):  # not written yet / nothing past offset
            return b""
        if response.status_code == 206:
            return response.content
        if response.status_code == 200:  # the server sent the whole file
            return response.content[int(offset):]
        from azure.core.exceptions import HttpResponseError

        raise HttpResponseError(message=f"Reading log {log_name} of job {name} answered {response.status_code}.")

    # -- the job's MLflow run --------------------------------------------------------------------
    def metric_histories(self, name):
        client = self._mlflow()
        keys = list(client.get_run(name).data.metrics)
        return {key: [(m.step, m.timestamp, m.value) for m in client.get_metric_history(name, key)] for key in keys}

    def get_tags(self, name):
        tags = self._mlflow().get_run(name).data.tags
        return {k: v for k, v in tags.items() if not k.startswith("mlflow.")}

    def list_artifacts(self, name, path=""):
        client, found, folders = self._mlflow(), [], [path or None]
        while folders:
            for info in client.list_artifacts(name, folders.pop()):
                (folders if info.is_dir else found).append(info.path)
        return sorted(found)

    def download_artifact(self, name, path, target_file):
        with tempfile.TemporaryDirectory(prefix="amlocal-artifact-") as folder:
            local = self._mlflow().download_artifacts(name, path, folder)
            local = Path(local)
            if not local.resolve().is_relative_to(Path(folder).resolve()) or not local.is_file():
                raise ValueError(f"MLflow returned {local} for artifact {path!r}, not a file in the download folder.")
            Path(target_file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target_file)

    def log_metric(self, name, key, value, step):
        self._mlflow().log_metric(name, key, value, step=step)

    def log_batch(self, name, items):
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        self._mlflow().log_batch(name, metrics=[Metric(key=k, value=v, timestamp=stamp, step=s) for k, v, s in items])

    def log_dict(self, name, dictionary, artifact_file):
        self._mlflow().log_dict(name, dictionary, artifact_file)

    def set_tag(self, name, key, value):
        self._mlflow().set_tag(name, key, value)

    def log_artifact(self, name, local_path, artifact_path=None):
        self._mlflow().log_artifact(name, local_path, artifact_path)

    def start_run(self, experiment):
        client = self._mlflow()
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        return client.create_run(experiment_id).info.run_id

    def end_run(self, name, status):
        client = self._mlflow()
        if client.get_run(name).info.status in _END_STATUS.values():
            return  # already ended: the first end stands
        client.set_terminated(name, _END_STATUS.get(status, "FINISHED"))

    # -- models ----------------------------------------------------------------------------------
    def create_model(self, model):
        return _model_record(self.ml.models.create_or_update(model))

    def get_model(self, name, version=None):
        if version is None:
            return _model_record(self.ml.models.get(name, label="latest"))
        return _model_record(self.ml.models.get(name, str(version)))

    def list_models(self, name=None):
        names = [name] if name else sorted({container.name for container in self.ml.models.list()})
        records = [_model_record(m) for n in names for m in self.ml.models.list(name=n)]
        records.sort(key=lambda r: (r["name"], -r["version"]))
        return records

    def download_model(self, name, version, target_dir):
        """azure-ai-ml writes ``<download_path>/<name>/<the model's files>``; SDK v1's layout is
        ``target_dir/<the registered file or folder>``."""
        target_dir = Path(target_dir)
        target_dir.mkdir(parents=True, exist_ok=True)
        own_name = str(self.ml.models.get(name, str(version)).path).rstrip("/").rsplit("/", 1)[-1]
        with tempfile.TemporaryDirectory(prefix="amlocal-model-", dir=target_dir) as folder:
            self.ml.models.download(name, str(version), download_path=folder)
            downloaded = Path(folder) / name
            entries = list(downloaded.iterdir()) if downloaded.is_dir() else []
            source = entries[0] if len(entries) == 1 and entries[0].name == own_name else downloaded
            target = inside(target_dir, own_name)
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            shutil.move(str(source), str(target))
        return str(target)

    def delete_model(self, name, version):
        self.ml.models.archive(name=name, version=str(version))

    # -- environments --------------------------------------------------------------------------------
    def register_environment(self, environment):
        return str(self.ml.environments.create_or_update(environment).version)

    def get_environment(self, name, version=None):
        from .translate import from_environment

        if version is None:
            environment = self.ml.environments.get(name, label="latest")
        else:
            environment = self.ml.environments.get(name, version=str(version))
        return from_environment(environment, curated=is_curated_name(name))

    def list_environments(self):
        """The latest version of every environment: one listing of the containers, then one call each."""
        names = sorted({container.name for container in self.ml.environments.list() if container.name})
        return {name: self.get_environment(name) for name in names}

    # -- compute -----------------------------------------------------------------------------------
    def list_computes(self):
        return [_compute_record(c) for c in self.ml.compute.list() if str(getattr(c, "type", "")).lower() == "amlcompute"]

    def get_compute(self, name):
        return _compute_record(self.ml.compute.get(name))

    def create_compute(self, compute):
        poller = self.ml.compute.begin_create_or_update(compute)
        with self._lock:
            self._pollers[compute.name] = poller
        record = _compute_record(compute)
        record["provisioning_state"] = "Creating"
        return record

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        with self._lock:
            poller = self._pollers.pop(name, None)
        deadline = time.monotonic() + timeout_in_minutes * 60
        if poller is not None:
            poller.result(timeout=timeout_in_minutes * 60)
        while True:
            record = self.get_compute(name)
            state = record["provisioning_state"]
            if show_output:
                print(state)
            if state not in ("Creating", "Updating", "Unknown") or time.monotonic() > deadline:
                break
            time.sleep(self.poll_interval)
        if state == "Failed":
            from azure.core.exceptions import HttpResponseError

            errors = getattr(self.ml.compute.get(name), "provisioning_errors", None)
            raise HttpResponseError(message=f"Compute {name} provisioning failed: {errors}")
        return record

    # -- datastores --------------------------------------------------------------------------------
    def list_datastores(self):
        return sorted(datastore.name for datastore in self.ml.datastores.list())

    def _container(self, datastore):
        from azure.ai.ml._artifacts._artifact_utilities import get_datastore_info
        from azure.storage.blob import ContainerClient

        info = get_datastore_info(self.ml.datastores, datastore)
        if str(info["storage_type"]) not in ("AzureBlob", "DatastoreType.AZURE_BLOB"):
            from azure.ai.ml.exceptions import ErrorCategory, MlException

            message = (f"Datastore {datastore} is of type {info['storage_type']}; amlocal reads and writes files of "
                       "Azure Blob datastores (such as workspaceblobstore) only.")
            raise MlException(message=message, no_personal_data_message=message,
                              error_category=ErrorCategory.USER_ERROR)
        return ContainerClient(info["account_url"], info["container_name"], credential=info["credential"],
                               **self._storage_options())

    def upload_files(self, datastore, files, overwrite=False, show_progress=True):
        return upload_to_container(self._container(datastore), files, overwrite, show_progress)

    def download_files(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        container = self._container(datastore)
        names = blob_names(container, prefix)
        if show_progress:
            print(f"Downloading {len(names)} files")
        count = 0
        for name in names:
            target = inside(target_path, name)
            if target.exists() and not overwrite:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                container.download_blob(name).readinto(out)
            count += 1
            if show_progress:
                print(f"Downloaded {name}, {count} files out of an estimated total of {len(names)}")
        return count

    def list_datastore_files(self, datastore, prefix=None):
        return blob_names(self._container(datastore), prefix)

    def datastore_path_kind(self, datastore, path):
        return blob_path_kind(self._container(datastore), path)
