"""Webservice (``azureml.core.webservice.Webservice``): a deployed model, found by name.

``Webservice(ws, name)`` returns the subclass of the service's kind (LocalWebservice,
AciWebservice), as the SDK does. The state of a service lives with its ServingBackend
(``amlocal.serving``), so another process sees the same services.
"""

import datetime
import json

from ...exceptions import WebserviceException, WebserviceNotFoundError
from ...serving import printable
from . import _client
from ._deploy import build_spec, check_service_name, run_deploy, serving_for

DEFAULT_WAIT_SECONDS = 600


class WebserviceDeploymentConfiguration:
    """Base of the deployment configurations (``deploy_configuration()`` of each kind)."""

    def __init__(self, type, description=None, tags=None, properties=None, primary_key=None, secondary_key=None,
                 location=None):
        self._webservice_type = type
        self.description = description
        self.tags = tags
        self.properties = properties
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.location = location

    def validate_configuration(self):
        pass

    def print_deploy_configuration(self):
        pass


class Webservice:
    #: the SDK's computeType of this kind of service ("Local", "ACI")
    _webservice_type = None
    _states_for_run = ()

    def __new__(cls, workspace=None, name=None, *args, **kwargs):
        if cls is Webservice and workspace is not None and name:
            serving, record = _find(workspace, name)
            child = _class_of(record.spec.compute_type)
            service = super().__new__(child)
            service._found = (serving, record)
            return service
        return super().__new__(cls)

    def __init__(self, workspace, name):
        found = self.__dict__.pop("_found", None)
        serving, record = found or _find(workspace, name, self._webservice_type)
        self._load(workspace, serving, record)

    # -- state -----------------------------------------------------------------------------------
    def _load(self, workspace, serving, record):
        self.workspace = workspace
        self.name = record.name
        self._serving = serving
        self._apply(record)

    def _apply(self, record):
        self._record = record
        spec = record.spec
        self.compute_type = spec.compute_type
        self.state = record.state
        self.error = record.error
        self.description = spec.description
        self.tags = dict(spec.tags) or None
        self.properties = dict(spec.properties) or None
        self.image_id = None
        self.created_time = _datetime(record.created_time)
        self.updated_time = _datetime(record.updated_time)

    def update_deployment_state(self, must_exist=False):
        """Refresh this object from the service as it is now."""
        try:
            self._apply(self._serving.get(self.name))
        except WebserviceNotFoundError:
            if must_exist:
                raise
            self.state = "unknown"

    @property
    def scoring_uri(self):
        return self._record.scoring_uri

    @property
    def swagger_uri(self):
        return self._record.swagger_uri

    @property
    def port(self):
        return self._record.port

    @property
    def models(self):
        return [_model_id(m) for m in self._record.spec.models]

    # -- use -------------------------------------------------------------------------------------
    def wait_for_deployment(self, show_output=False, timeout_sec=None):
        """Block until the service answers its health probe; raises WebserviceException with the
        end of its log when its server exits (``init()`` failed, say) or ``timeout_sec`` passes."""
        self._require_state("wait_for_deployment", ("deploying", "running", "transitioning", "healthy"))
        if show_output:
            print("Checking container health...")
        try:
            self._apply(self._serving.wait(self.name, timeout_sec or DEFAULT_WAIT_SECONDS))
        except WebserviceException:
            self.state = "failed"
            raise
        self._announce()

    def _announce(self):
        print(f"Local webservice is {self.state} at {self._record.base_url}")

    def run(self, input_data):
        """POST ``input_data`` (a JSON string, or any JSON-able value) to /score; returns the
        decoded answer. Raises WebserviceException with the server's message and the end of the
        service's log when scoring fails."""
        self._require_state("run", ("deploying", "running", "healthy"))
        if self.state == "deploying":
            self.wait_for_deployment()
        status, body = _client.post_score(self.scoring_uri, input_data)
        if status == 200:
            try:
                return json.loads(body)
            except ValueError:
                return body.decode("utf-8", "replace")
        tail = printable(self._failed_request_log(status))
        raise WebserviceException(
            f"Error: Scoring was unsuccessful (HTTP {status}): {printable(_client.server_message(body))}\n"
            f"--- last lines of the service log ---\n{tail}", status_code=status, log_tail=tail)

    def _log_tail(self, lines):
        try:
            return self._serving.logs(self.name, lines)
        except WebserviceException:
            return "(no log)"

    def _failed_request_log(self, status, lines=40, seconds=2.0):
        """The end of the log once it holds the failed request: the engine copies a container's
        output a moment after the server prints it, and the access line comes last."""
        import time

        deadline = time.monotonic() + seconds
        while True:
            tail = self._log_tail(lines)
            last = tail.rstrip().rsplit("\n", 3)[1:]
            if any(f'/score HTTP/1.1" {status}' in line for line in last) or time.monotonic() > deadline:
                return tail
            time.sleep(0.05)

    def get_logs(self, num_lines=5000, init=False, raw=False):
        """What the service's server printed: its last ``num_lines`` lines."""
        self._require_state("get_logs", ("deploying", "running", "failed", "healthy", "unhealthy", "transitioning"))
        return self._serving.logs(self.name, num_lines)

    def delete(self, delete_cache=True, delete_image=False, delete_volume=True):
        """Stop and remove the service: no container of it is left."""
        self._serving.delete(self.name)
        self.state = "deleted"

    def reload(self, wait=False):
        """Restart the service with fresh copies of its entry script and source directory (not
        its environment: ``update`` does that). The old one serves until the new one answers."""
        self._redeploy(self._record.spec, wait)

    def _redeploy(self, spec, wait):
        self._apply(run_deploy(self._serving, spec))
        if wait:
            self.wait_for_deployment()

    def _update_spec(self, models=None, inference_config=None, port=..., cpu_cores=None, memory_gb=None,
                     description=None, tags=None, properties=None):
        """The service's spec with what an update changes; the rest stays as deployed."""
        from ...specs import replace
        from ._deploy import model_mounts

        old = self._record.spec
        spec = old
        if inference_config is not None:
            spec = replace(build_spec(self.workspace, self.name, models if models is not None else _model_refs(old),
                                      inference_config, old.compute_type, bind_address=old.bind_address),
                           deployment_options=old.deployment_options)
        elif models is not None:
            spec = replace(old, models=model_mounts(self.workspace, models))
        changes = {"port": old.port if port is ... else port}
        for key, value in (("cpu_cores", cpu_cores), ("memory_gb", memory_gb), ("description", description),
                           ("tags", tags), ("properties", properties)):
            changes[key] = getattr(old, key) if value is None else value
        return replace(spec, **changes)

    def serialize(self):
        created = self.created_time.isoformat() if self.created_time else None
        updated = self.updated_time.isoformat() if self.updated_time else None
        return {"name": self.name, "tags": self.tags, "properties": self.properties, "state": self.state,
                "createdTime": created, "updatedTime": updated, "error": self.error,
                "computeType": self.compute_type, "workspaceName": self.workspace.name, "imageId": self.image_id,
                "scoringUri": self.scoring_uri, "swaggerUri": self.swagger_uri, "port": self.port,
                "models": self.models}

    def get_keys(self):
        raise NotImplementedError("Local web services do not support auth keys.")

    def regen_key(self, key, set_key=None):
        raise NotImplementedError("Local web services do not support auth keys.")

    def get_token(self):
        raise NotImplementedError("Local web services do not support Token Authentication.")

    def _require_state(self, action, states):
        if self.state not in states:
            raise WebserviceException(f"Cannot call {action}() when service is {self.state}.")

    def __repr__(self):
        return (f"{type(self).__name__}(workspace={self.workspace.name}, name={self.name}, state={self.state}, "
                f"scoring_uri={self.scoring_uri})")

    # -- finding ---------------------------------------------------------------------------------
    @staticmethod
    def list(workspace, compute_type=None, image_name=None, image_id=None, model_name=None, model_id=None,
             tags=None, properties=None, image_digest=None):
        """The workspace's services (of ``compute_type``; using ``model_name`` / ``model_id``;
        with every tag / property given), by name."""
        services = []
        for serving in _servings(workspace):
            for record in serving.list():
                service = object.__new__(_class_of(record.spec.compute_type))
                service._load(workspace, serving, record)
                services.append(service)
        return [s for s in services if _matches(s, compute_type, model_name, model_id, tags, properties)]

    @staticmethod
    def deploy(workspace, name, model_paths, image_config, deployment_config=None, deployment_target=None,
               overwrite=False):
        raise _image_based("Webservice.deploy")

    @staticmethod
    def deploy_from_model(workspace, name, models, image_config, deployment_config=None, deployment_target=None,
                          overwrite=False):
        raise _image_based("Webservice.deploy_from_model")

    @staticmethod
    def deploy_from_image(workspace, name, image, deployment_config=None, deployment_target=None, overwrite=False):
        raise _image_based("Webservice.deploy_from_image")

    @staticmethod
    def deploy_local_from_model(workspace, name, models, image_config, deployment_config=None, wait=False):
        raise _image_based("Webservice.deploy_local_from_model")

    @classmethod
    def deserialize(cls, workspace, webservice_payload):
        raise NotImplementedError("Web services cannot be deserialized locally: find them with "
                                  "Webservice(workspace, name).")

    @staticmethod
    def check_for_existing_webservice(workspace, name, overwrite=False, request_func=None, check_func=None):
        if overwrite:
            return
        for serving in _servings(workspace):
            try:
                serving.get(name)
            except WebserviceNotFoundError:
                continue
            raise WebserviceException(f"Error, there is already a service with name {name} found in workspace "
                                      f"{workspace.name}. Delete it, deploy with overwrite=True, or choose another "
                                      "name.")

    @staticmethod
    def _deploy_spec(workspace, name, models, inference_config, compute_type, **options):
        check_service_name(name)
        serving = serving_for(workspace, compute_type)
        spec = build_spec(workspace, name, models, inference_config, compute_type, **options)
        record = run_deploy(serving, spec)
        service = object.__new__(_class_of(compute_type))
        service._load(workspace, serving, record)
        return service


def _image_based(method):
    return WebserviceException(f"{method} deploys from a container image configuration (ContainerImage), which "
                               "Azure ML retired and amlocal does not support. Deploy registered models with "
                               "Model.deploy(ws, name, [model], InferenceConfig(entry_script=..., environment=...), "
                               "deployment_config).")


def _find(workspace, name, compute_type=None):
    """(serving, ServiceRecord) of service ``name``; WebserviceNotFoundError when none has it."""
    for serving in _servings(workspace):
        try:
            record = serving.get(name)
        except WebserviceNotFoundError:
            continue
        if compute_type is None or record.spec.compute_type == compute_type:
            return serving, record
    raise WebserviceNotFoundError(f"WebserviceNotFound: Webservice with name {name} not found in provided workspace. "
                                  "`amlocal service list` shows the services.")


def _servings(workspace):
    """The ServingBackends that may hold the workspace's services: this machine's, then the
    workspace backend's own (Azure) when it has one."""
    found = [serving_for(workspace, "Local")]
    remote = serving_for(workspace, "ACI")
    if type(remote) is not type(found[0]):
        found.append(remote)
    return found


def _class_of(compute_type):
    from .aci import AciWebservice
    from .local import LocalWebservice

    return AciWebservice if compute_type == "ACI" else LocalWebservice


def _matches(service, compute_type, model_name, model_id, tags, properties):
    from ...stores.model_registry import matches_filters

    spec = service._record.spec
    if compute_type and spec.compute_type.lower() != str(compute_type).lower():
        return False
    if model_name and all(m.name != model_name for m in spec.models):
        return False
    if model_id and all(_model_id(m) != model_id for m in spec.models):
        return False
    return matches_filters(spec.tags, tags) and matches_filters(spec.properties, properties)


def _model_id(mount):
    return f"{mount.name}:{mount.version}"


def _model_refs(spec):
    """The models of a spec as deploy takes them again: ids, or paths for unregistered ones."""
    return [m.path if m.version == 0 else _model_id(m) for m in spec.models]


def _datetime(epoch):
    return datetime.datetime.fromtimestamp(epoch) if epoch else None
