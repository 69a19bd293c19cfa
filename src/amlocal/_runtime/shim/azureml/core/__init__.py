"""Local stand-in for ``azureml.core``: ``Run`` and ``Experiment`` (see ``amlocal._runtime``).

The path is extended so that the real SDK's ``azureml.core`` modules, when installed,
stay importable (``azureml.core.conda_dependencies`` and the like).
"""
__path__ = __import__('pkgutil').extend_path(__path__, __name__)

from azureml.core.run import Experiment, Run  # noqa: E402

__all__ = ["Experiment", "Run"]
