"""``amlocal.core``: the names of ``azureml.core`` that a training workflow uses.

Names are imported on first use (PEP 562), so that importing one submodule, as the run
supervisor and the command line do, does not load the whole API.
"""

from importlib import import_module

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


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
