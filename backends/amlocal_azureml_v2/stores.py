"""The stores of an Azure ML workspace seen through SDK v2: its jobs and their MLflow runs, models,
clusters, datastores and environments, each an amlocal store interface over the one
``AzureMLV2Adapter``."""

from dataclasses import dataclass

from amlocal.exceptions import InvalidArgumentError
from amlocal.specs import replace
from amlocal.stores import ComputeTargets, Datastores, EnvironmentStore, WorkspaceStores
from amlocal.stores.datastores import DEFAULT_DATASTORE

from . import translate
from .adapter import AzureMLV2Adapter
from .errors import sdk_errors
from .history import AzureV2RunHistory
from .registry import AzureV2ModelRegistry

#: Adapters made current by ``fake.mock_azureml_v2()``: used by every workspace that passes none.
ADAPTER_OVERRIDES = []


@dataclass(frozen=True)
class AzureV2Stores(WorkspaceStores):
    adapter: AzureMLV2Adapter = None


def open_v2_stores(workspace, adapter=None, auth=None):
    """The stores of the Azure ML workspace ``workspace`` (a WorkspaceInfo) names, through
    ``adapter`` (default: a fake made current by ``mock_azureml_v2``, else the real SDK signed in
    with ``auth`` or the credentials found)."""
    workspace.check_azure_ids("azureml-v2")
    if adapter is None and ADAPTER_OVERRIDES:
        adapter = ADAPTER_OVERRIDES[-1]
    if adapter is None:
        from .sdk_adapter import SdkV2Adapter

        adapter = SdkV2Adapter.for_workspace(workspace, auth)
    history = AzureV2RunHistory(adapter)
    return AzureV2Stores(run_history=history,
                         model_registry=AzureV2ModelRegistry(adapter, history, workspace.name),
                         compute_targets=AzureV2ComputeTargets(adapter, workspace.subscription_id),
                         datastores=AzureV2Datastores(adapter), environments=AzureV2Environments(adapter),
                         adapter=adapter)


class AzureV2ComputeTargets(ComputeTargets):
    def __init__(self, adapter, subscription_id=None):
        self.adapter = adapter
        self.subscription_id = subscription_id

    def get(self, name):
        with sdk_errors("get compute", compute=name):
            return self.adapter.get_compute(name)

    def create(self, name, configuration):
        compute = translate.to_aml_compute(name, dict(configuration), self.subscription_id)
        with sdk_errors("create compute", compute=name, vm_size=compute.size):
            return self.adapter.create_compute(compute)

    def wait(self, name, show_output=False, timeout_in_minutes=25):
        with sdk_errors("provision compute", compute=name):
            return self.adapter.wait_for_compute(name, show_output=show_output, timeout_in_minutes=timeout_in_minutes)

    def list(self):
        with sdk_errors("list compute targets"):
            return sorted(self.adapter.list_computes(), key=lambda record: record["name"])


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
            return sorted(set(self.adapter.list_datastores()) | {DEFAULT_DATASTORE})

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


class AzureV2Environments(EnvironmentStore):
    """The workspace's registered environments. A curated name (AzureML-...) is Azure's own: it is
    looked up as the workspace knows it, and a run on it names it (``azureml:<name>@latest``)
    instead of rebuilding it."""

    def __init__(self, adapter):
        self.adapter = adapter

    def register(self, spec):
        with sdk_errors(f"register environment {spec.name!r}"):
            version = self.adapter.register_environment(translate.to_registered_environment(spec))
        return replace(spec, version=str(version))

    def get(self, name, version=None):
        with sdk_errors(f"get environment {name!r}", environment=name):
            return self.adapter.get_environment(name, None if version is None else str(version))

    def list(self):
        with sdk_errors("list environments"):
            return dict(self.adapter.list_environments())
