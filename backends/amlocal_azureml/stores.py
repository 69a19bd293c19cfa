"""The stores of an Azure ML workspace: its own run history, models, clusters, datastores and
environments, each an amlocal store interface over the one ``AzureAdapter`` (what both Azure
backends build the same way is ``amlocal_azure.stores``)."""

from amlocal_azure.stores import AdapterChoice, AdapterComputeTargets, AdapterDatastores, AdapterEnvironments, \
    AzureStores

from . import translate
from .errors import sdk_errors
from .history import AzureRunHistory
from .registry import AzureModelRegistry

__all__ = ["AzureStores", "ADAPTER", "open_azure_stores"]


#: A workspace's adapter: the one given, else the fake ``fake.mock_azureml()`` made current, else the SDK's.
ADAPTER = AdapterChoice("amlocal_azureml.sdk_adapter:SdkAzureAdapter")


def open_azure_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through ``ADAPTER``."""
    workspace.check_azure_ids("azureml")
    adapter = ADAPTER(workspace, adapter, auth)
    history = AzureRunHistory(adapter)
    return AzureStores(run_history=history, model_registry=AzureModelRegistry(adapter, history, workspace.name),
                       compute_targets=AzureComputeTargets(adapter), datastores=AzureDatastores(adapter),
                       environments=AzureEnvironments(adapter), adapter=adapter)


class AzureComputeTargets(AdapterComputeTargets):
    sdk_errors = sdk_errors

    def create(self, name, configuration):
        with sdk_errors("check the provisioning configuration", compute=name, vm_size=configuration.get("vm_size")):
            config = translate.to_provisioning_configuration(configuration)
        with sdk_errors("create compute", compute=name, vm_size=configuration.get("vm_size")):
            return self.adapter.create_compute(name, config)


class AzureDatastores(AdapterDatastores):
    sdk_errors = sdk_errors

    def exists(self, datastore, path):
        with sdk_errors(f"look at datastore {datastore!r}", datastore=datastore):
            return self.adapter.datastore_path_exists(datastore, self._path(path, datastore))


class AzureEnvironments(AdapterEnvironments):
    sdk_errors = sdk_errors

    def _to_sdk(self, spec):
        return translate.to_environment(spec)
