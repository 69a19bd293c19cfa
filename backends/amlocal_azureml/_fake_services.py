"""The fake workspace's ACI web services: each deployment runs on this machine (the docker
backend's ``DockerServing``, under the fake's root), reported with ACI's states."""

import hashlib
import os

ACI_STATES = {"deploying": "Transitioning", "running": "Healthy", "failed": "Failed", "unknown": "Unknown"}


class FakeServices:
    """Mixed into FakeAzureAdapter (which has ``root`` and ``workspace_name``)."""

    @property
    def _serving(self):
        if getattr(self, "_docker_serving", None) is None:
            from amlocal_docker.serving import DockerServing

            from amlocal.specs import WorkspaceInfo

            root = self.root / "services"
            info = WorkspaceInfo(name=self.workspace_name, base_image=os.environ.get("AMLOCAL_BASE_IMAGE"))
            self._docker_serving = DockerServing(info, root, hashlib.sha256(str(root).encode()).hexdigest()[:16])
        return self._docker_serving

    def deploy_service(self, name, model_ids, inference_config, deployment_config, local_spec=None):
        if local_spec is None:
            raise ValueError("the fake deploys the service amlocal describes (local_spec)")
        self.deployed_services = getattr(self, "deployed_services", [])
        self.deployed_services.append({"name": name, "model_ids": list(model_ids),
                                       "inference_config": inference_config, "deployment_config": deployment_config})
        return _aci(self._serving.deploy(local_spec, _Discard()))

    def wait_service(self, name, timeout):
        return _aci(self._serving.wait(name, timeout))

    def get_service(self, name):
        from amlocal.exceptions import WebserviceNotFoundError

        try:
            return _aci(self._serving.get(name))
        except WebserviceNotFoundError:
            return None

    def list_services(self):
        return [_aci(record) for record in self._serving.list()]

    def service_logs(self, name, num_lines=5000):
        return self._serving.logs(name, num_lines)

    def delete_service(self, name):
        self._serving.delete(name)


def _aci(record):
    return {"name": record.name, "state": ACI_STATES.get(record.state, record.state), "port": record.port,
            "created": record.created_time, "updated": record.updated_time, "error": record.error,
            "spec": record.spec.to_dict(), "scoring_uri": record.scoring_uri}


class _Discard:
    def write(self, text):
        pass

    def flush(self):
        pass
