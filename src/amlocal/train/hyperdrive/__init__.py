"""``amlocal.train.hyperdrive``: hyperparameter sweeps, the names of ``azureml.train.hyperdrive``.

Names load on first use (PEP 562). Importing this package loads neither Optuna nor scipy nor
numpy: they are needed only by Bayesian and Sobol sampling (``pip install 'amlocal[hyperdrive]'``).
"""

from importlib import import_module

_EXPORTS = {
    "BanditPolicy": ".policy",
    "EarlyTerminationPolicy": ".policy",
    "MedianStoppingPolicy": ".policy",
    "NoTerminationPolicy": ".policy",
    "TruncationSelectionPolicy": ".policy",
    "HyperDriveConfig": ".runconfig",
    "HyperDriveRunConfig": ".runconfig",
    "HyperDriveRun": ".run",
    "PrimaryMetricGoal": ".run",
    "BayesianParameterSampling": ".sampling",
    "GridParameterSampling": ".sampling",
    "HyperParameterSampling": ".sampling",
    "RandomParameterSampling": ".sampling",
    "choice": ".parameter_expressions",
    "lognormal": ".parameter_expressions",
    "loguniform": ".parameter_expressions",
    "normal": ".parameter_expressions",
    "qlognormal": ".parameter_expressions",
    "qloguniform": ".parameter_expressions",
    "qnormal": ".parameter_expressions",
    "quniform": ".parameter_expressions",
    "randint": ".parameter_expressions",
    "uniform": ".parameter_expressions",
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
