"""The stores of an Azure ML workspace seen through SDK v2: its jobs and their MLflow runs, models,
clusters, datastores and environments, each an amlocal store interface over the one
``AzureMLV2Adapter`` (what both Azure backends build the same way is ``amlocal_azure.stores``)."""

from amlocal.exceptions import InvalidArgumentError
from amlocal.stores import Datastores
from amlocal_azure.stores import AdapterComputeTargets, AdapterEnvironments, AzureStores, Overrides, \
    with_default_datastore

from . import translate
from .errors import sdk_errors
from .history import AzureV2RunHistory
from .registry import AzureV2ModelRegistry

__all__ = ["AzureV2Stores", "OVERRIDES", "open_v2_stores"]

#: Adapters made current by ``fake.mock_azureml_v2()``: used by every workspace that passes none.
OVERRIDES = Overrides()

#: The stores bundle (the same type as the azureml backend's: the adapter is what differs).
AzureV2Stores = AzureStores


def open_v2_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through
    ``adapter`` (default: a fake made current by ``mock_azureml_v2``, else the real SDK signed in
    with ``auth`` or the credentials found)."""
    def real():
        from .sdk_adapter import SdkV2Adapter

        return SdkV2Adapter.for_workspace(workspace, auth)

    adapter = OVERRIDES.adapter(adapter, real)
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


def _checked_path(path):
    """A datastore path from the user: relative, '/'-separated, without '..'."""
    text = str(path or "").replace("\\", "/")
    if text.startswith("/") or ".." in text.split("/") or "\0" in text:
        raise InvalidArgumentError(f"Datastore path {str(path)!r}: use a relative path without '..' (for example "
                                   "'iris' or 'data/iris.csv').")
    return text.strip("/")


class AzureV2Datastores(Datastores):
    """Files of the workspace's Azure Blob datastores (workspaceblobstore and any other blob one)."""

    def __init__(self, adapter):
        self.adapter = adapter

    def names(self):
        with sdk_errors("list datastores"):
            return with_default_datastore(self.adapter.list_datastores())

    def upload(self, datastore, files, overwrite=False, show_progress=True):
        pairs = [(str(source), _checked_path(name)) for source, name in files]
        with sdk_errors(f"upload to datastore {datastore!r}", datastore=datastore):
            return self.adapter.upload_files(datastore, pairs, overwrite=overwrite, show_progress=show_progress)

    def download(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        with sdk_errors(f"download from datastore {datastore!r}", datastore=datastore):
            return self.adapter.download_files(datastore, str(target_path), prefix=_checked_path(prefix) or None,
                                               overwrite=overwrite, show_progress=show_progress)

    def list(self, datastore, prefix=None):
        with sdk_errors(f"list datastore {datastore!r}", datastore=datastore):
            return sorted(self.adapter.list_datastore_files(datastore, _checked_path(prefix) or None))

    def exists(self, datastore, path):
        return self.path_kind(datastore, path) is not None

    def path_kind(self, datastore, path):
        """"file", "folder" or None (neither): a job's input is a ``uri_file`` or a ``uri_folder``."""
        with sdk_errors(f"look at datastore {datastore!r}", datastore=datastore):
            return self.adapter.datastore_path_kind(datastore, _checked_path(path))


class AzureV2Environments(AdapterEnvironments):
    """A run on a curated environment names it (``azureml:<name>@latest``)."""
    sdk_errors = sdk_errors

    def _to_sdk(self, spec):
        return translate.to_registered_environment(spec)
