"""``AzureServing``: ACI web services of an Azure ML workspace, through the backend's adapter.

``Model.deploy(ws, name, models, inference_config, AciWebservice.deploy_configuration(...))``
on the azureml backend becomes the SDK's own ``Model.deploy`` with the real InferenceConfig,
Environment and AciServiceDeploymentConfiguration (``translate.to_deploy_arguments``). The
fake adapter runs the same deployment on this machine instead. Local services
(``LocalWebservice``) never come here: they run on this machine whatever the backend.
"""

from amlocal.exceptions import WebserviceNotFoundError
from amlocal.serving import ServiceRecord, ServiceSpec, ServingBackend

from . import translate


class AzureServing(ServingBackend):
    def __init__(self, workspace, state_dir, home_id, stores=None):
        self.workspace = workspace
        self.adapter = stores.adapter

    def deploy(self, spec, log):
        arguments = translate.to_deploy_arguments(spec)
        record = self.adapter.deploy_service(spec.name, [f"{m.name}:{m.version}" for m in spec.models],
                                             arguments["inference_config"], arguments["deployment_config"],
                                             local_spec=spec)
        return _record(spec, record)

    def wait(self, name, timeout):
        spec = self._spec(name)
        return _record(spec, self.adapter.wait_service(name, timeout))

    def get(self, name):
        return _record(self._spec(name), self.adapter.get_service(name))

    def list(self):
        return [_record(self._spec(r["name"], r), r) for r in self.adapter.list_services()]

    def logs(self, name, num_lines=5000):
        return self.adapter.service_logs(name, num_lines)

    def delete(self, name):
        self.adapter.delete_service(name)

    def _spec(self, name, record=None):
        record = record or self.adapter.get_service(name)
        if record is None:
            raise WebserviceNotFoundError(f"WebserviceNotFound: Webservice with name {name} not found in provided "
                                          "workspace.")
        return ServiceSpec.from_dict(record["spec"])


def _record(spec, record):
    """An adapter's service record (name, state, port, created, updated, error, spec) as a
    ServiceRecord; ``state`` is ACI's word (Healthy, Transitioning, Failed)."""
    if record is None:
        raise WebserviceNotFoundError(f"WebserviceNotFound: Webservice with name {spec.name} not found in provided "
                                      "workspace.")
    return ServiceRecord(spec=spec, state=record["state"], port=record.get("port"),
                         created_time=record.get("created"), updated_time=record.get("updated"),
                         error=record.get("error"))
