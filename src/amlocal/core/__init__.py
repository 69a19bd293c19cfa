"""``amlocal.core``: the names of ``azureml.core`` that a training workflow uses.

Names are imported on first use (PEP 562), so that importing one submodule, as the run
supervisor and the command line do, does not load the whole API.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "CondaDependencies": ".conda_dependencies",
    "Datastore": ".datastore",
    "Environment": ".environment",
    "Experiment": ".experiment",
    "Model": ".model",
    "Run": ".run",
    "ScriptRunConfig": ".script_run_config",
    "Workspace": ".workspace",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
