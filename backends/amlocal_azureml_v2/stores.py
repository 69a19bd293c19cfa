"""The stores of an Azure ML workspace seen through SDK v2: its jobs and their MLflow runs, models,
clusters, datastores and environments, each an amlocal store interface over the one
``AzureMLV2Adapter`` (what both Azure backends build the same way is ``amlocal_azure.stores``)."""

from amlocal_azure.stores import AdapterChoice, AdapterComputeTargets, AdapterDatastores, AdapterEnvironments, \
    AzureStores

from . import translate
from .errors import sdk_errors
from .history import AzureV2RunHistory
from .registry import AzureV2ModelRegistry

__all__ = ["AzureV2Stores", "ADAPTER", "open_v2_stores"]

#: The stores bundle (the same type as the azureml backend's: the adapter is what differs).
AzureV2Stores = AzureStores


#: A workspace's adapter: the one given, else the fake ``fake.mock_azureml_v2()`` made current, else the SDK's.
ADAPTER = AdapterChoice("amlocal_azureml_v2.sdk_adapter:SdkV2Adapter")


def open_v2_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through ``ADAPTER``."""
    workspace.check_azure_ids("azureml-v2")
    adapter = ADAPTER(workspace, adapter, auth)
    history = AzureV2RunHistory(adapter)
    return AzureV2Stores(run_history=history,
                         model_registry=AzureV2ModelRegistry(adapter, history, workspace.name),
                         compute_targets=AzureV2ComputeTargets(adapter, workspace.subscription_id),
                         datastores=AzureV2Datastores(adapter), environments=AzureV2Environments(adapter),
                         adapter=adapter)


class AzureV2ComputeTargets(AdapterComputeTargets):
    sdk_errors = sdk_errors

    def __init__(self, adapter, subscription_id=None):
        super().__init__(adapter)
        self.subscription_id = subscription_id

    def create(self, name, configuration):
        compute = translate.to_aml_compute(name, dict(configuration), self.subscription_id)
        with sdk_errors("create compute", compute=name, vm_size=compute.size):
            return self.adapter.create_compute(compute)


class AzureV2Datastores(AdapterDatastores):
    """Files of the workspace's Azure Blob datastores (workspaceblobstore and any other blob one)."""
    sdk_errors = sdk_errors

    def exists(self, datastore, path):
        return self.path_kind(datastore, path) is not None

    def path_kind(self, datastore, path):
        """"file", "folder" or None (neither): a job's input is a ``uri_file`` or a ``uri_folder``."""
        with sdk_errors(f"look at datastore {datastore!r}", datastore=datastore):
            return self.adapter.datastore_path_kind(datastore, self._path(path, datastore))


class AzureV2Environments(AdapterEnvironments):
    """A run on a curated environment names it (``azureml:<name>@latest``)."""
    sdk_errors = sdk_errors

    def _to_sdk(self, spec):
        return translate.to_registered_environment(spec)
