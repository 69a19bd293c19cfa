"""The ``azureml`` backend: the same amlocal code and training script, run on real Azure ML
(SDK v1) AmlCompute, with the workspace's own run history, model registry and datastores.

Needs the ``azure`` extra (``pip install 'amlocal[azure]'``: azureml-core). Without it, importing
this package raises ImportError, which amlocal turns into a BackendUnavailableError that says
which extra to install; the core never imports azureml.

    AzureMLBackend       the backend (entry point ``azureml`` of the ``amlocal.backends`` group)
    AzureAdapter         the one seam to Azure (``adapter``)
    FakeAzureAdapter     a stateful fake of it, for tests (``amlocal_azureml.fake``)
"""

import importlib.util


def _require_azureml_core():
    # The in-job shim also provides a package named "azureml", but not azureml.core.workspace.
    try:
        found = importlib.util.find_spec("azureml.core.workspace") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError("the azureml backend needs azureml-core, which is not installed; "
                          "install it with: pip install 'amlocal[azure]'")


_require_azureml_core()

from .adapter import AzureAdapter  # noqa: E402
from .azureml_backend import AzureMLBackend  # noqa: E402

__all__ = ["AzureAdapter", "AzureMLBackend"]
