"""LocalWebservice (``azureml.core.webservice.LocalWebservice``): a model served on this
machine, in a container running Azure's inference server, at http://localhost:<port>."""

from ...exceptions import WebserviceException, WebserviceNotFoundError
from .webservice import Webservice, WebserviceDeploymentConfiguration, _find


class LocalWebservice(Webservice):
    _webservice_type = "Local"

    NETWORK_NAME = "azureml-local"
    STATE_DELETED = "deleted"
    STATE_DEPLOYING = "deploying"
    STATE_FAILED = "failed"
    STATE_RUNNING = "running"
    STATE_UNKNOWN = "unknown"

    def __init__(self, workspace, name, must_exist=True):
        found = self.__dict__.pop("_found", None)
        try:
            serving, record = found or _find(workspace, name, self._webservice_type)
        except WebserviceNotFoundError:
            if must_exist:
                raise WebserviceNotFoundError(f"WebserviceNotFound: No local container with name {name}. "
                                              "`amlocal service list` shows the services.") from None
            self.workspace, self.name, self.state, self._record = workspace, name, self.STATE_UNKNOWN, None
            return
        self._load(workspace, serving, record)

    @staticmethod
    def deploy_configuration(port=None, bind_address=None):
        """``port``: where the service listens (None: a free port). ``bind_address`` (amlocal):
        the address it listens on; loopback (127.0.0.1) unless you ask, for example "0.0.0.0"
        to reach it from other machines."""
        return LocalWebserviceDeploymentConfiguration(port, bind_address)

    @staticmethod
    def list(workspace, model_name=None, model_id=None, all=None):
        return [s for s in Webservice.list(workspace, compute_type="Local", model_name=model_name, model_id=model_id)
                if all or s.state != LocalWebservice.STATE_FAILED]

    def update(self, models=None, image_config=None, deployment_config=None, wait=False, inference_config=None):
        """Deploy again with what changed (models, entry script and environment, port); the
        service keeps serving the old deployment until the new one answers."""
        from ..inference_config import InferenceConfig

        if image_config is not None:
            raise WebserviceException("Error, image configurations (ContainerImageConfig) are not supported; pass an "
                                      "inference_config.")
        if deployment_config is not None and not isinstance(deployment_config, LocalWebserviceDeploymentConfiguration):
            raise WebserviceException("Error, provided deployment configuration must be of type "
                                      "LocalWebserviceDeploymentConfiguration in order to update a local service.")
        if inference_config is not None and not isinstance(inference_config, InferenceConfig):
            raise WebserviceException("Error, provided inference configuration must be of type InferenceConfig "
                                      "in order to update a local service.")
        from ...specs import replace

        spec = self._update_spec(models=models, inference_config=inference_config,
                                 port=deployment_config.port if deployment_config else ...)
        if deployment_config is not None and deployment_config.bind_address:
            spec = replace(spec, bind_address=deployment_config.bind_address)
        self._redeploy(spec, wait)

    def deploy_to_cloud(self, name=None, deployment_config=None, deployment_target=None):
        raise WebserviceException("deploy_to_cloud() is not supported locally: deploy with Model.deploy and "
                                  "AciWebservice.deploy_configuration(...) on the azureml backend.")

    @classmethod
    def deserialize(cls, workspace, webservice_payload):
        raise NotImplementedError("Local web services cannot be deserialized.")

    @staticmethod
    def _deploy(workspace, name, models, inference_config=None, deployment_config=None):
        config = deployment_config or LocalWebservice.deploy_configuration()
        return Webservice._deploy_spec(workspace, name, models, inference_config, "Local", port=config.port,
                                       bind_address=config.bind_address)


class LocalWebserviceDeploymentConfiguration(WebserviceDeploymentConfiguration):
    def __init__(self, port=None, bind_address=None):
        super().__init__(LocalWebservice)
        self.port = port
        self.bind_address = bind_address
        self.validate_configuration()

    def validate_configuration(self):
        if self.port and not (isinstance(self.port, int) and 1 <= self.port <= 65535):
            raise WebserviceException("Invalid configuration, port must be an integer in range [1, 65535]")
        if self.bind_address is not None:
            import ipaddress

            try:
                ipaddress.ip_address(self.bind_address)
            except ValueError:
                raise WebserviceException(f"Invalid configuration, bind_address must be an IP address such as "
                                          f"127.0.0.1 or 0.0.0.0, got {self.bind_address!r}") from None
