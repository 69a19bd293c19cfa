"""``SdkAzureAdapter``: the AzureAdapter over the real azureml-core SDK (v1) and a real workspace.

Constructing one signs in (``auth``) and looks the workspace up, so a missing credential, a
rejected one or a wrong config.json fails here, at once, with amlocal's error types. After that,
each method is one or two SDK calls. Nothing here runs in the default test run (it needs Azure);
the live tests (AMLOCAL_AZURE_LIVE=1) run the same contract against it.
"""

import os
import tempfile
import threading
from pathlib import Path

from azureml.core import Datastore, Experiment, Model, Run, Workspace
from azureml.core.compute import AmlCompute, ComputeTarget

from amlocal.curated_environments import is_curated_name
from amlocal_azure.sdk import Recent, StatusTimelines, blob_names, blob_path_kind, upload_to_container
from amlocal_azure.times import epoch

from . import auth as auth_module
from . import datastore_access, timeouts
from .adapter import STREAMED_LOG, AzureAdapter
from .errors import sdk_errors


def _compute_record(target):
    scale = getattr(target, "scale_settings", None)
    status = getattr(target, "status", None)
    state = getattr(status, "provisioning_state", None) or getattr(target, "provisioning_state", None)
    return {"name": target.name, "type": getattr(target, "type", "AmlCompute"),
            "vm_size": (getattr(target, "vm_size", None) or "").upper(),
            "vm_priority": (getattr(target, "vm_priority", None) or "dedicated").lower(),
            "min_nodes": getattr(scale, "minimum_node_count", 0), "max_nodes": getattr(scale, "maximum_node_count", None),
            "provisioning_state": (state or "Unknown").capitalize()}


def _listed_record(run, experiment_name):
    """The run record of a run as the run history lists it (its DTO, no further call)."""
    dto = run._run_dto or {}
    definition = dto.get("run_definition") or {}
    return {"run_id": run.id, "experiment": experiment_name, "status": dto.get("status"),
            "created": epoch(dto.get("created_utc")), "start_time": epoch(dto.get("start_time_utc")),
            "end_time": epoch(dto.get("end_time_utc")), "script": dto.get("script_name") or definition.get("script"),
            "arguments": [str(a) for a in definition.get("arguments") or []],
            "compute_target": dto.get("target") or definition.get("target"), "tags": dict(dto.get("tags") or {}),
            "properties": dict(dto.get("properties") or {}), "error": dto.get("error")}


def _model_record(model):
    created = model.created_time.timestamp() if getattr(model, "created_time", None) else None
    return {"name": model.name, "version": int(model.version), "run_id": model.run_id, "tags": dict(model.tags or {}),
            "properties": dict(model.properties or {}), "description": model.description, "created_time": created,
            "model_framework": model.model_framework,
            "model_framework_version": getattr(model, "model_framework_version", None), "url": model.url}


class SdkAzureAdapter(AzureAdapter):
    poll_interval = 5.0

    def __init__(self, workspace, limits=None):
        """``workspace``: a signed-in, existing ``azureml.core.Workspace``; ``limits``: its
        config.json's ``Timeouts`` (default: those configured already)."""
        timeouts.install(limits)
        self.workspace = workspace
        self._runs = {}
        self._timelines = StatusTimelines()
        self._created_computes = {}
        # streaming asks for the log list and the log text in the same poll
        self._details = Recent(lambda run_id: self._run(run_id).get_details())
        self._lock = threading.Lock()

    @classmethod
    def for_workspace(cls, info, auth=None):
        """Sign in with ``auth`` or the credentials ``auth.find_credentials`` finds, and open the
        workspace that ``info`` (a WorkspaceInfo: its config.json) names. Raises
        AzureCredentialsError or AzureWorkspaceNotFoundError within seconds when that cannot work."""
        config = info.config or {}
        limits = timeouts.Timeouts.from_config(config)
        limits.overridden_by(os.environ)  # a bad AMLOCAL_AZURE_* variable fails here, before any request
        timeouts.install(limits)
        choice = auth_module.find_credentials(config, os.environ, auth)
        with auth_module.sign_in_errors(choice):
            credentials = auth_module.build_auth(choice, cloud=config.get("cloud") or "AzureCloud")
        described = (f"{info.name} (subscription {info.subscription_id}, resource group "
                     f"{info.resource_group}) with {choice.description}")
        with sdk_errors(f"open workspace {described}", workspace=info.name):
            workspace = Workspace(info.subscription_id, info.resource_group, info.name, auth=credentials)
        return cls(workspace, limits)

    # -- compute -------------------------------------------------------------------------------
    def get_compute(self, name):
        return _compute_record(ComputeTarget(workspace=self.workspace, name=name))

    def create_compute(self, name, provisioning_configuration):
        target = ComputeTarget.create(self.workspace, name, provisioning_configuration)
        with self._lock:  # only this object knows the provisioning operation to wait for
            self._created_computes[name] = target
        record = _compute_record(target)
        record["provisioning_state"] = "Creating" if record["provisioning_state"] == "Unknown" else \
            record["provisioning_state"]
        return record

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        with self._lock:
            target = self._created_computes.pop(name, None)
        target = target or ComputeTarget(workspace=self.workspace, name=name)
        if isinstance(target, AmlCompute):
            target.wait_for_completion(show_output=show_output, timeout_in_minutes=timeout_in_minutes)
        else:
            target.wait_for_completion(show_output=show_output)
        record = _compute_record(target)
        if record["provisioning_state"] == "Failed":
            from azureml.exceptions import ComputeTargetException

            raise ComputeTargetException(
                "Compute object provisioning polling reached non-successful terminal state, current provisioning "
                f"state: Failed\nProvisioning operation error:\n{getattr(target, 'provisioning_errors', None)}")
        return record

    def list_computes(self):
        return [_compute_record(target) for target in ComputeTarget.list(self.workspace)
                if isinstance(target, AmlCompute)]

    # -- datastores ----------------------------------------------------------------------------
    def get_datastore(self, name):
        return Datastore.get(self.workspace, name)

    def _checked_datastore(self, name, action):
        datastore = self.get_datastore(name)
        datastore_access.check(datastore, action)
        return datastore

    def _container(self, datastore_name, action):
        datastore = self._checked_datastore(datastore_name, action)
        return datastore.blob_service.get_container_client(datastore.container_name)

    def upload_files(self, datastore_name, files, overwrite=False, show_progress=True):
        return upload_to_container(self._container(datastore_name, "Upload"), files, overwrite, show_progress)

    def download_files(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        return self._checked_datastore(datastore_name, "Download").download(
            target_path, prefix=prefix, overwrite=overwrite, show_progress=show_progress)

    def list_datastore_files(self, datastore_name, prefix=None):
        return blob_names(self._container(datastore_name, "List"), prefix)

    def datastore_path_exists(self, datastore_name, path):
        if not datastore_access.paths_checkable(self.get_datastore(datastore_name)):
            return True  # no key to look with: Azure checks the path when the job mounts it
        return blob_path_kind(self._container(datastore_name, "List"), path) is not None

    def list_datastores(self):
        return sorted(self.workspace.datastores)

    # -- environments ---------------------------------------------------------------------------
    def register_environment(self, environment):
        return str(environment.register(self.workspace).version)

    def get_environment(self, name, version=None):
        from azureml.core import Environment

        from .translate import from_environment

        try:
            env = Environment.get(self.workspace, name, version=version)
        except Exception as err:  # the SDK raises a bare exception for an unknown name
            from amlocal.exceptions import EnvironmentNotFoundError

            raise EnvironmentNotFoundError(f"No environment {name!r}" + (f" version {version}" if version else "") +
                                           f" in workspace {self.workspace.name}: {err}") from err
        return from_environment(env, curated=is_curated_name(name))

    def get_sdk_environment(self, name):
        from azureml.core import Environment

        return Environment.get(self.workspace, name)

    def list_environments(self):
        from azureml.core import Environment

        from .translate import from_environment

        return {name: from_environment(env, curated=is_curated_name(name))
                for name, env in Environment.list(self.workspace).items()}

    # -- runs ----------------------------------------------------------------------------------
    def _run(self, run_id):
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            run = Run.get(self.workspace, run_id)
            with self._lock:
                self._runs[run_id] = run
        return run

    def submit(self, experiment, script_run_config, tags=None, run_id=None, parent_run_id=None):
        if parent_run_id is not None:
            from azureml.exceptions import UserErrorException

            raise UserErrorException("Azure ML makes a HyperDrive run's children itself; submit the sweep with "
                                     "submit_hyperdrive.")
        run = Experiment(self.workspace, experiment).submit(script_run_config, tags=tags or None)
        return self._remember(run)

    def submit_hyperdrive(self, experiment, hyperdrive_config, tags=None, sweep=None, backend=None):
        run = Experiment(self.workspace, experiment).submit(hyperdrive_config, tags=tags or None)
        return self._remember(run)

    def _remember(self, run):
        with self._lock:
            self._runs[run.id] = run
        self._timelines.observe(run.id, "NotStarted")
        return run.id

    def get_status(self, run_id):
        status = self._run(run_id).get_status()
        self._timelines.observe(run_id, status)
        return status

    def get_details(self, run_id):
        return self._run(run_id).get_details()

    def get_run(self, run_id):
        run = self._run(run_id)
        return self._record(run, run.get_details())

    def _record(self, run, details):
        definition = details.get("runDefinition") or {}
        created = (getattr(run, "_run_dto", None) or {}).get("created_utc") or details.get("startTimeUtc")
        return {"run_id": run.id, "experiment": run.experiment.name, "status": details.get("status"),
                "created": epoch(created), "start_time": epoch(details.get("startTimeUtc")),
                "end_time": epoch(details.get("endTimeUtc")), "script": definition.get("script"),
                "arguments": list(definition.get("arguments") or []), "compute_target": details.get("target"),
                "tags": dict(run.get_tags()), "error": details.get("error")}

    def status_timeline(self, run_id):
        self.get_status(run_id)
        return self._timelines.get(run_id)

    def list_runs(self, experiment=None, limit=None):
        """One listing call per experiment and per page of 500 runs (the run history's
        DEFAULT_PAGE_SIZE): each record comes from the listed run itself, never from per-run
        calls (``get_details`` costs three). ``Experiment.list`` finds the experiment without
        creating it, as ``Experiment(ws, name)`` would."""
        experiments = Experiment.list(self.workspace, experiment_name=experiment) if experiment else \
            Experiment.list(self.workspace)
        records = []
        for found in experiments:
            for run in Run.list(found, _rehydrate_runs=False):  # newest first, page by page
                records.append(_listed_record(run, found.name))
                if experiment and limit and len(records) >= limit:
                    return records
        records.sort(key=lambda r: r["created"] or 0, reverse=True)
        return records[:limit] if limit else records

    def list_experiments(self):
        return sorted(experiment.name for experiment in Experiment.list(self.workspace))

    def cancel(self, run_id, reason=None):
        run = self._run(run_id)
        if run.get_status() not in ("Completed", "Failed", "Canceled"):
            run.cancel()

    def start_logging(self, experiment, snapshot_directory=None):
        run = Experiment(self.workspace, experiment).start_logging(snapshot_directory=snapshot_directory)
        with self._lock:
            self._runs[run.id] = run
        self._timelines.observe(run.id, "Running")
        return run.id

    def end_run(self, run_id, status, error=None):
        run = self._run(run_id)
        if status == "Completed":
            run.complete()
        elif status == "Canceled":
            run.cancel()
        else:
            run.fail(error_details=(error or {}).get("message"), error_code=(error or {}).get("code"))

    def portal_url(self, run_id):
        return self._run(run_id).get_portal_url()

    # -- what a run recorded -------------------------------------------------------------------
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        run = self._run(run_id)
        if kind == "scalar":
            run.log(name, value, description=description, step=step)
        elif kind == "list":
            run.log_list(name, value, description=description)
        elif kind == "row":
            run.log_row(name, description=description, **value)
        elif kind == "table":
            run.log_table(name, value, description=description)
        elif kind == "confusion_matrix":
            run.log_confusion_matrix(name, value, description=description)
        elif kind == "image":
            with tempfile.TemporaryDirectory() as folder:
                local = Path(folder) / Path(value["artifact"]).name
                run.download_file(value["artifact"], str(local))
                run.log_image(name, path=str(local), description=description)
        else:
            run.log(name, value, description=description)

    def get_metrics(self, run_id, name=None, populate=False):
        return self._run(run_id).get_metrics(name=name, populate=populate)

    def set_tags(self, run_id, tags):
        self._run(run_id).set_tags(tags)

    def get_tags(self, run_id):
        return self._run(run_id).get_tags()

    def list_files(self, run_id):
        return sorted(self._run(run_id).get_file_names())

    def download_file(self, run_id, name, output_file_path):
        self._run(run_id).download_file(name, output_file_path=output_file_path)

    def upload_file(self, run_id, name, path_or_stream):
        self._run(run_id).upload_file(name, path_or_stream)

    def log_names(self, run_id):
        files = self._details.get(run_id).get("logFiles") or {}
        return sorted(name for name in files if STREAMED_LOG.match(name))

    def read_log(self, run_id, name):
        from azureml._execution import _commands

        uri = (self._details.get(run_id).get("logFiles") or {}).get(name)
        return _commands._get_content_from_uri(uri, timeout=60) if uri else ""

    # -- models --------------------------------------------------------------------------------
    def delete_model(self, name, version):
        Model(self.workspace, name=name, version=version).delete()

    def register_model(self, name, model_path, tags=None, properties=None, description=None, model_framework=None,
                       model_framework_version=None):
        model = Model.register(self.workspace, model_path=model_path, model_name=name, tags=tags,
                               properties=properties, description=description, model_framework=model_framework,
                               model_framework_version=model_framework_version)
        return _model_record(model)

    def register_model_from_run(self, run_id, name, model_path, tags=None, properties=None, description=None,
                                model_framework=None, model_framework_version=None):
        model = self._run(run_id).register_model(model_name=name, model_path=model_path, tags=tags,
                                                 properties=properties, description=description,
                                                 model_framework=model_framework,
                                                 model_framework_version=model_framework_version)
        return _model_record(model)

    def get_model(self, name, version=None):
        return _model_record(Model(self.workspace, name=name, version=version))

    def list_models(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        # the filters as the user gave them (amlocal.rules.filters checked them the SDK's way):
        # the SDK builds the service's query from them
        models = Model.list(self.workspace, name=name, tags=tags, properties=properties, run_id=run_id,
                            latest=latest)
        return [_model_record(m) for m in models]

    def download_model(self, name, version, target_dir, exist_ok=False):
        return Model(self.workspace, name=name, version=version).download(target_dir=target_dir, exist_ok=exist_ok)

    # -- web services (ACI) ----------------------------------------------------------------------
    def deploy_service(self, name, model_ids, inference_config, deployment_config, local_spec=None):
        models = [Model(self.workspace, id=model_id) for model_id in model_ids]
        service = Model.deploy(self.workspace, name, models, inference_config, deployment_config, overwrite=True)
        self._service_specs[name] = local_spec.to_dict() if local_spec else None
        return self._service_record(service)

    @property
    def _service_specs(self):
        if not hasattr(self, "_specs_of_services"):
            self._specs_of_services = {}
        return self._specs_of_services

    def _service_record(self, service):
        from amlocal.serving import ServiceSpec
        from amlocal.specs import EnvironmentSpec

        spec = self._service_specs.get(service.name) or ServiceSpec(
            name=service.name, entry_script="score.py", environment=EnvironmentSpec(name="unknown"),
            compute_type="ACI").to_dict()
        return {"name": service.name, "state": service.state, "port": None, "created": epoch(service.created_time),
                "updated": epoch(service.updated_time), "error": str(service.error) if service.error else None,
                "spec": spec, "scoring_uri": service.scoring_uri}

    def wait_service(self, name, timeout):
        from azureml.core.webservice import Webservice

        service = Webservice(self.workspace, name)
        service.wait_for_deployment(show_output=True, timeout_sec=timeout)
        return self._service_record(service)

    def get_service(self, name):
        from azureml.core.webservice import Webservice
        from azureml.exceptions import WebserviceException

        try:
            return self._service_record(Webservice(self.workspace, name))
        except WebserviceException as err:
            if "WebserviceNotFound" in str(err):
                return None
            raise

    def list_services(self):
        from azureml.core.webservice import Webservice

        return [self._service_record(s) for s in Webservice.list(self.workspace, compute_type="ACI")]

    def service_logs(self, name, num_lines=5000):
        from azureml.core.webservice import Webservice

        return Webservice(self.workspace, name).get_logs(num_lines=num_lines)

    def delete_service(self, name):
        from azureml.core.webservice import Webservice

        Webservice(self.workspace, name).delete()
