"""The ``azureml-v2`` backend: the same amlocal code and unmodified SDK v1 training script, run on
an Azure ML workspace through the supported SDK v2 (``azure-ai-ml`` + ``azure-identity``), with
the workspace's own jobs, MLflow tracking, model registry and datastores.

Needs the ``azure-v2`` extra (``pip install 'amlocal[azure-v2]'``). Without it, importing this
package raises ImportError, which amlocal turns into a BackendUnavailableError naming the extra.

    AzureMLV2Backend     the backend (entry point ``azureml-v2`` of the ``amlocal.backends`` group)
    AzureMLV2Adapter     the one seam to Azure (``adapter``)
    FakeV2Adapter        a stateful fake of it, for tests (``amlocal_azureml_v2.fake``)
"""

import importlib.util


def _require_azure_ai_ml():
    try:
        found = importlib.util.find_spec("azure.ai.ml") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError("the azureml-v2 backend needs azure-ai-ml, which is not installed; "
                          "install it with: pip install 'amlocal[azure-v2]'")


_require_azure_ai_ml()

from .adapter import AzureMLV2Adapter  # noqa: E402
from .azureml_v2_backend import AzureMLV2Backend  # noqa: E402

__all__ = ["AzureMLV2Adapter", "AzureMLV2Backend"]
