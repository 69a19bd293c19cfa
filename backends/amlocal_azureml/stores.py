"""The stores of an Azure ML workspace: its own run history, models, clusters, datastores and
environments, each an amlocal store interface over the one ``AzureAdapter`` (what both Azure
backends build the same way is ``amlocal_azure.stores``)."""

from amlocal.stores import Datastores
from amlocal_azure.stores import AdapterComputeTargets, AdapterEnvironments, AzureStores, Overrides, \
    with_default_datastore

from . import translate
from .errors import sdk_errors
from .history import AzureRunHistory
from .registry import AzureModelRegistry

__all__ = ["AzureStores", "OVERRIDES", "open_azure_stores"]

#: Adapters made current by ``fake.mock_azureml()``: used by every workspace that passes none.
OVERRIDES = Overrides()


def open_azure_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through
    ``adapter`` (default: a fake made current by ``mock_azureml``, else the real SDK signed in
    with ``auth`` or the credentials found)."""
    def real():
        from .sdk_adapter import SdkAzureAdapter

        return SdkAzureAdapter.for_workspace(workspace, auth)

    adapter = OVERRIDES.adapter(adapter, real)
    history = AzureRunHistory(adapter)
    return AzureStores(run_history=history, model_registry=AzureModelRegistry(adapter, history, workspace.name),
                       compute_targets=AzureComputeTargets(adapter), datastores=AzureDatastores(adapter),
                       environments=AzureEnvironments(adapter), adapter=adapter)


class AzureComputeTargets(AdapterComputeTargets):
    sdk_errors = sdk_errors

    def create(self, name, configuration):
        config = translate.to_provisioning_configuration(configuration)
        with sdk_errors("create compute", compute=name, vm_size=configuration.get("vm_size")):
            return self.adapter.create_compute(name, config)


class AzureDatastores(Datastores):
    def __init__(self, adapter):
        self.adapter = adapter

    def names(self):
        with sdk_errors("list datastores"):
            return with_default_datastore(self.adapter.list_datastores())

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


class AzureEnvironments(AdapterEnvironments):
    sdk_errors = sdk_errors

    def _to_sdk(self, spec):
        return translate.to_environment(spec)
