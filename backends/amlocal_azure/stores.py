"""The stores of an Azure ML workspace over one adapter: what both backends build the same way.

* ``AzureStores``: amlocal's WorkspaceStores bundle, plus the adapter every store goes through;
* ``AdapterChoice``: which adapter a workspace's stores use (given, made current by a
  ``mock_azureml()`` block, or the SDK's); each backend keeps its own;
* ``AdapterComputeTargets``, ``AdapterDatastores`` and ``AdapterEnvironments``: those stores,
  given the backend's guard, its translation of a configuration into the SDK's object and how
  it takes a datastore path; ``with_default_datastore``: the datastores a workspace lists.
"""

import contextlib
import importlib
from dataclasses import dataclass

from amlocal.rules.paths import relative_data_path
from amlocal.specs import replace
from amlocal.stores import ComputeTargets, Datastores, EnvironmentStore, WorkspaceStores
from amlocal.stores.datastores import DEFAULT_DATASTORE

from .timeouts import Timeouts


@dataclass(frozen=True)
class AzureStores(WorkspaceStores):
    adapter: object = None


class AdapterChoice:
    """The adapter a workspace's stores go through: the one given; else the one a ``mock`` block
    made current (the innermost); else the SDK's, ``"module:Class"`` (imported only then, so a
    fake needs no credentials), signed in by ``Class.for_workspace(workspace, auth)``."""

    def __init__(self, sdk_adapter):
        self.sdk_adapter = sdk_adapter
        self._mocked = []

    def __call__(self, workspace, adapter=None, auth=None):
        # a bad "azure_timeouts" or AMLOCAL_AZURE_* variable fails here whichever adapter is used
        Timeouts.in_force(getattr(workspace, "config", None))
        if adapter is None and self._mocked:
            adapter = self._mocked[-1]
        if adapter is None:
            module, _, name = self.sdk_adapter.partition(":")
            adapter = getattr(importlib.import_module(module), name).for_workspace(workspace, auth)
        return adapter

    @contextlib.contextmanager
    def mock(self, adapter, make, **options):
        """Within the block, ``adapter`` (by default ``make(**options)``, closed at the end) is
        the adapter of every workspace that names none. Yields the adapter."""
        created = adapter is None
        adapter = make(**options) if created else adapter
        self._mocked.append(adapter)
        try:
            yield adapter
        finally:
            self._mocked.remove(adapter)
            if created:
                adapter.close()


def with_default_datastore(names):
    """The workspace's datastores as a user lists them: sorted, the default one always there."""
    return sorted(set(names) | {DEFAULT_DATASTORE})


class AdapterComputeTargets(ComputeTargets):
    #: the backend's guard around SDK calls (``errors.sdk_errors``)
    sdk_errors = None

    def __init__(self, adapter):
        self.adapter = adapter

    def _guard(self, action, **context):
        return type(self).sdk_errors(action, **context)

    def get(self, name):
        with self._guard("get compute", compute=name):
            return self.adapter.get_compute(name)

    def wait(self, name, show_output=False, timeout_in_minutes=25):
        with self._guard("provision compute", compute=name):
            return self.adapter.wait_for_compute(name, show_output=show_output, timeout_in_minutes=timeout_in_minutes)

    def list(self):
        with self._guard("list compute targets"):
            return sorted(self.adapter.list_computes(), key=lambda record: record["name"])


class AdapterDatastores(Datastores):
    """Files of the workspace's datastores. A subclass sets ``sdk_errors`` and says whether a
    path is there (``exists``), taking every path from the user through ``_path``."""
    #: the backend's guard around SDK calls (``errors.sdk_errors``)
    sdk_errors = None

    def __init__(self, adapter):
        self.adapter = adapter

    @staticmethod
    def _path(path, datastore):
        """A path in ``datastore`` from the user, checked and normalised (PathOutsideRootError)
        before the adapter sees it: the one rule of ``amlocal.rules.paths.relative_data_path``."""
        return relative_data_path(path, "datastore path", f"datastore {datastore!r}")

    def _prefix(self, prefix, datastore):
        """A listing's prefix, checked as ``_path`` checks a path; a final '/' is kept, since a
        blob listing matches the prefix as text ("data/" leaves out "data2/...")."""
        path = self._path(prefix, datastore)
        folder = path and str(prefix).replace("\\", "/").endswith("/")
        return (path + "/" if folder else path) or None

    def _guard(self, action, datastore=None):
        return type(self).sdk_errors(action, **({"datastore": datastore} if datastore else {}))

    def names(self):
        with self._guard("list datastores"):
            return with_default_datastore(self.adapter.list_datastores())

    def upload(self, datastore, files, overwrite=False, show_progress=True):
        pairs = [(str(source), self._path(name, datastore)) for source, name in files]
        with self._guard(f"upload to datastore {datastore!r}", datastore):
            return self.adapter.upload_files(datastore, pairs, overwrite=overwrite, show_progress=show_progress)

    def download(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        prefix = self._prefix(prefix, datastore)
        with self._guard(f"download from datastore {datastore!r}", datastore):
            return self.adapter.download_files(datastore, str(target_path), prefix=prefix,
                                               overwrite=overwrite, show_progress=show_progress)

    def list(self, datastore, prefix=None):
        prefix = self._prefix(prefix, datastore)
        with self._guard(f"list datastore {datastore!r}", datastore):
            return sorted(self.adapter.list_datastore_files(datastore, prefix))


class AdapterEnvironments(EnvironmentStore):
    """The workspace's registered environments. A curated name (AzureML-...) is Azure's own: it
    is looked up as the workspace knows it and a run names it, never rebuilt."""
    #: the backend's guard around SDK calls (``errors.sdk_errors``)
    sdk_errors = None

    def __init__(self, adapter):
        self.adapter = adapter

    def _to_sdk(self, spec):
        """The SDK's environment object to register for EnvironmentSpec ``spec``."""
        raise NotImplementedError

    def _guard(self, action, **context):
        return type(self).sdk_errors(action, **context)

    def register(self, spec):
        with self._guard(f"register environment {spec.name!r}"):
            version = self.adapter.register_environment(self._to_sdk(spec))
        return replace(spec, version=str(version))

    def get(self, name, version=None):
        with self._guard(f"get environment {name!r}", environment=name):
            return self.adapter.get_environment(name, None if version is None else str(version))

    def list(self):
        with self._guard("list environments"):
            return dict(self.adapter.list_environments())
