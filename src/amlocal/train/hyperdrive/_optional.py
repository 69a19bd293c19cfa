"""Optional dependencies of sweeps, imported only when a sweep uses them (``amlocal[hyperdrive]``):
Optuna for Bayesian sampling, scipy for Sobol sequences."""

import importlib

from ...exceptions import MissingOptionalDependencyError

EXTRA = "hyperdrive"


def _import(module, package, feature):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingOptionalDependencyError(feature, EXTRA, [package]) from err


def import_optuna(feature):
    optuna = _import("optuna", "optuna", feature)
    # Optuna logs every trial at INFO; the sweep prints its own progress.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def import_scipy_qmc(feature):
    return _import("scipy.stats.qmc", "scipy", feature)
