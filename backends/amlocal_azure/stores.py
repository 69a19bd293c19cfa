"""The stores of an Azure ML workspace over one adapter: what both backends build the same way.

* ``AzureStores``: amlocal's WorkspaceStores bundle, plus the adapter every store goes through;
* ``Overrides``: the adapter a ``mock_azureml()`` block makes current for every workspace that
  names none (each backend keeps its own);
* ``AdapterComputeTargets`` and ``AdapterEnvironments``: the compute targets and environments
  stores, given the backend's guard and its translation of a configuration into the SDK's
  object; ``with_default_datastore``: the datastores a workspace lists.
"""

import contextlib
from dataclasses import dataclass

from amlocal.specs import replace
from amlocal.stores import ComputeTargets, EnvironmentStore, WorkspaceStores
from amlocal.stores.datastores import DEFAULT_DATASTORE


@dataclass(frozen=True)
class AzureStores(WorkspaceStores):
    adapter: object = None


class Overrides:
    """The adapters ``mock`` made current, the innermost last."""

    def __init__(self):
        self._stack = []

    def adapter(self, adapter, real):
        """``adapter`` when given; else the current override; else ``real()`` (the SDK's adapter)."""
        if adapter is None and self._stack:
            adapter = self._stack[-1]
        return real() if adapter is None else adapter

    @contextlib.contextmanager
    def mock(self, adapter, make, **options):
        """Within the block, ``adapter`` (by default ``make(**options)``, closed at the end) is
        the adapter of every workspace that names none. Yields the adapter."""
        created = adapter is None
        adapter = make(**options) if created else adapter
        self._stack.append(adapter)
        try:
            yield adapter
        finally:
            self._stack.remove(adapter)
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
