"""The stores of an Azure ML workspace: its own run history, models, clusters, datastores and
environments, each an amlocal store interface over the one ``AzureAdapter``."""

from dataclasses import dataclass

from amlocal.specs import EnvironmentSpec
from amlocal.stores import ComputeTargets, Datastores, EnvironmentStore, WorkspaceStores
from amlocal.stores.datastores import DEFAULT_DATASTORE

from . import translate
from .adapter import AzureAdapter
from .errors import sdk_errors
from .history import AzureRunHistory
from .registry import AzureModelRegistry

#: Adapters made current by ``fake.mock_azureml()``: used by every workspace that passes none.
ADAPTER_OVERRIDES = []


@dataclass(frozen=True)
class AzureStores(WorkspaceStores):
    adapter: AzureAdapter = None


def open_azure_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through
    ``adapter`` (default: a fake made current by ``mock_azureml``, else the real SDK signed in
    with ``auth`` or the credentials found)."""
    workspace.check_azure_ids("azureml")
    if adapter is None and ADAPTER_OVERRIDES:
        adapter = ADAPTER_OVERRIDES[-1]
    if adapter is None:
        from .sdk_adapter import SdkAzureAdapter

        adapter = SdkAzureAdapter.for_workspace(workspace, auth)
    history = AzureRunHistory(adapter)
    return AzureStores(run_history=history, model_registry=AzureModelRegistry(adapter, history, workspace.name),
                       compute_targets=AzureComputeTargets(adapter), datastores=AzureDatastores(adapter),
                       environments=AzureEnvironments(adapter), adapter=adapter)


class AzureComputeTargets(ComputeTargets):
    def __init__(self, adapter):
        self.adapter = adapter

    def get(self, name):
        with sdk_errors("get compute", compute=name):
            return self.adapter.get_compute(name)

    def create(self, name, configuration):
        with sdk_errors("check the provisioning configuration", compute=name, vm_size=configuration.get("vm_size")):
            config = translate.to_provisioning_configuration(configuration)
        with sdk_errors("create compute", compute=name, vm_size=configuration.get("vm_size")):
            return self.adapter.create_compute(name, config)

    def wait(self, name, show_output=False, timeout_in_minutes=25):
        with sdk_errors("provision compute", compute=name):
            return self.adapter.wait_for_compute(name, show_output=show_output, timeout_in_minutes=timeout_in_minutes)

    def list(self):
        with sdk_errors("list compute targets"):
            return sorted(self.adapter.list_computes(), key=lambda record: record["name"])


class AzureDatastores(Datastores):
    def __init__(self, adapter):
        self.adapter = adapter

    def names(self):
        with sdk_errors("list datastores"):
            return sorted(set(self.adapter.list_datastores()) | {DEFAULT_DATASTORE})

    def upload(self, datastore, files, overwrite=False, show_progress=True):
        with sdk_errors(f"upload to datastore {datastore!r}"):
            return self.adapter.upload_files(datastore, [(str(s), n) for s, n in files], overwrite=overwrite,
                                             show_progress=show_progress)

    def download(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        with sdk_errors(f"download from datastore {datastore!r}"):
            return self.adapter.download_files(datastore, str(target_path), prefix=prefix, overwrite=overwrite,
                                               show_progress=show_progress)

    def list(self, datastore, prefix=None):
        with sdk_errors(f"list datastore {datastore!r}"):
            return sorted(self.adapter.list_datastore_files(datastore, prefix))

    def exists(self, datastore, path):
        with sdk_errors(f"look at datastore {datastore!r}"):
            return self.adapter.datastore_path_exists(datastore, path or "")


class AzureEnvironments(EnvironmentStore):
    """The workspace's registered environments; a curated name (AzureML-...) is Azure's own and
    is passed through by name, never rebuilt."""

    def __init__(self, adapter):
        self.adapter = adapter

    def register(self, spec):
        with sdk_errors(f"register environment {spec.name!r}"):
            version = self.adapter.register_environment(translate.to_environment(spec))
        return EnvironmentSpec.from_dict({**spec.to_dict(), "version": str(version)})

    def get(self, name, version=None):
        with sdk_errors(f"get environment {name!r}"):
            return self.adapter.get_environment(name, version)

    def list(self):
        with sdk_errors("list environments"):
            return dict(self.adapter.list_environments())
