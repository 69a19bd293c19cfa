"""``amlocal.core.webservice``: deploy registered models as web services
(``azureml.core.webservice``). ``Model.deploy(ws, name, [model], InferenceConfig(...),
LocalWebservice.deploy_configuration(port=...))`` serves them on this machine with Azure's
inference server; ``AciWebservice.deploy_configuration(...)`` is Azure Container Instances on
the azureml backend, and a local service with the same CPU and memory limits elsewhere."""

from ...exceptions import WebserviceException
from .aci import AciServiceDeploymentConfiguration, AciWebservice
from .local import LocalWebservice, LocalWebserviceDeploymentConfiguration
from .webservice import Webservice, WebserviceDeploymentConfiguration

__all__ = ["AciServiceDeploymentConfiguration", "AciWebservice", "LocalWebservice",
           "LocalWebserviceDeploymentConfiguration", "Webservice", "WebserviceDeploymentConfiguration",
           "WebserviceException"]
