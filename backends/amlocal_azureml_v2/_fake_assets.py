"""Clusters, datastores, models and environments of ``FakeV2Adapter``'s workspace, answering as
Azure does through SDK v2. What both fakes keep alike is ``amlocal_azure.fake_assets``; here
are SDK v2's errors (azure-core's, with the service's error body; azure-ai-ml's for what the
SDK refuses itself) and records, and:

* Datastores: "workspaceblobstore" (AzureBlob) and "workspacefilestore" (AzureFile) exist; files
  live under ``root``. Files of an AzureFile datastore are refused, as azure-ai-ml's
  ``get_datastore_info`` (which the real adapter uses for them) refuses it.
* Models: a model is created from an azure-ai-ml ``Model`` (a local file or folder, or a job's
  artifact), and downloads under its own name; a version is archived (``models.archive``);
  listing an unknown name is the service's 404.
* Environments: what ``create_or_update`` received (the real ``Environment`` entity, read back
  as an EnvironmentSpec), refused without a name, with a version, or with a curated name.
"""

import re
import time
from pathlib import Path

from amlocal.curated_environments import is_curated_name
from amlocal_azure.fake_assets import FakeClusters, FakeEnvironments, FakeModels, layout_of

from ._fake_errors import http_error, ml_exception, not_found

JOB_ARTIFACT = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/artifacts/paths/(?P<path>.+)$")
DATASTORE_TYPES = {"workspaceblobstore": "AzureBlob", "workspacefilestore": "AzureFile"}


class FakeV2Clusters(FakeClusters):
    record_type = "amlcompute"

    def __init__(self, workspace, location="eastus", vm_sizes=None, core_quota=None):
        super().__init__(location, vm_sizes, core_quota)
        self.workspace = workspace

    def _not_found(self, name):
        return not_found("Compute", name, self.workspace)

    def _bad_request(self, code, message):
        return http_error(400, code, message)

    def _provisioning_failed(self, name, message):
        """The failure of the create operation's poller."""
        return http_error(400, "ComputeProvisioningFailed", f"Compute {name} provisioning failed: {message}")

    def create_from(self, compute):
        """``compute.begin_create_or_update`` with a real azure-ai-ml ``AmlCompute``."""
        from azure.ai.ml.entities import AmlCompute

        if not isinstance(compute, AmlCompute):
            raise ml_exception(f"create_compute takes an azure.ai.ml.entities.AmlCompute, got {type(compute).__name__}")
        priority = "lowpriority" if (compute.tier or "").lower() == "low_priority" else "dedicated"
        return self.create(compute.name, compute.size, compute.min_instances, compute.max_instances, priority, compute)


class FakeDatastores:
    def __init__(self, root, workspace):
        self.root = Path(root)
        self.workspace = workspace
        self.types = dict(DATASTORE_TYPES)

    def add(self, name, kind="AzureBlob"):
        self.types[name] = kind

    def directory(self, name, blob_only=False):
        if name not in self.types:
            raise not_found("Datastore", name, self.workspace)
        kind = self.types[name]
        if blob_only and kind == "AzureFile":
            # azure.ai.ml._artifacts._artifact_utilities.get_datastore_info's own refusal
            raise ml_exception(f"Datastore type {kind} is not supported for uploads. Supported types are AzureBlob "
                               "and AzureDataLakeGen2.")
        if blob_only and kind != "AzureBlob":  # SdkV2Adapter's refusal
            raise ml_exception(f"Datastore {name} is of type {kind}; amlocal reads and writes files of Azure Blob "
                               "datastores (such as workspaceblobstore) only.")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class FakeV2Models(FakeModels):
    def _invalid_name(self, name):
        return http_error(400, "UserError", f"Model name {name} is invalid: it must start with a letter or digit and "
                                            "have at most 255 letters, digits, '-', '.' or '_'.")

    def _not_found(self, name, version):
        return not_found("Model container" if version is None else "Model version",
                         name if version is None else f"{name}:{version}", self.workspace)

    def _record(self, name, version, source, model=None, job_name=None, source_address=None):
        address = source_address or (f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{name}/"
                                     f"{version}/{source.name}")
        return {"name": name, "version": version, "job_name": job_name, "tags": dict(model.tags or {}),
                "properties": dict(model.properties or {}), "description": model.description,
                "created_time": time.time(), "path": address,
                "id": f"azureml:/subscriptions/fake/workspaces/{self.workspace}/models/{name}/versions/{version}",
                "_own_name": source.name}

    def add_model(self, model, source, job_name=None, source_address=None):
        """A copy of ``source`` (a file or a folder) as the next version of ``model`` (an azure-ai-ml ``Model``)."""
        source = Path(source)
        return self.store(model.name, layout_of(source), source=source, model=model, job_name=job_name,
                          source_address=source_address)

    def list(self, name=None):
        with self._lock:
            if name is not None and name not in self.models:
                raise not_found("Model container", name, self.workspace)
        return self.present(name)

    def download(self, name, version, target_dir):
        """The registered file or folder into ``target_dir``, under its own name (SDK v1's layout); its path."""
        model = self._model(name, version)
        return str(self.copy_out(model, target_dir) / model["_own_name"])


class FakeV2Environments(FakeEnvironments):
    def _not_found(self, name, version):
        return not_found("Environment" if version is None else "Environment version",
                         name if version is None else f"{name}:{version}", self.workspace)

    def register(self, environment):
        from azure.ai.ml.entities import Environment

        from .translate import from_environment

        if not isinstance(environment, Environment) or not environment.name:
            raise ml_exception(f"register_environment takes a named azure.ai.ml.entities.Environment, got "
                               f"{environment!r}")
        if environment.version:
            raise ml_exception("the fake numbers environment versions itself: register one without a version")
        if is_curated_name(environment.name):
            raise http_error(400, "UserError", f"Environment name {environment.name} is reserved: names starting "
                                               "with 'AzureML' are Azure ML's curated environments.")
        return self.add(environment.name, from_environment(environment))
