"""Bayesian sampling with Optuna's TPE sampler, rebuilt from the sweep's history at every call.

The study lives only for the call: finished trials are added with their primary metric, trials
still running are added as running (TPE's "constant liar" then steers new proposals away from
them), failed or metric-less ones as failed. The sampler's seed is derived from the sweep's seed
and the number of trials in the history, so the same history always yields the same proposals
(and two calls at different points of a sweep do not replay the same random start-up draws).

Expression mapping: choice -> categorical; uniform(lo, hi) -> float in [lo, hi];
quniform(lo, hi, q) -> the integer k in [round(lo/q), round(hi/q)], value k * q.
"""

import math
import warnings

from ._goal import PrimaryMetricGoal
from ._optional import import_optuna

FEATURE = "BayesianParameterSampling"
_RUNNING = {"NotStarted", "Queued", "Preparing", "Provisioning", "Starting", "Running", "Finalizing",
            "CancelRequested"}


def _distributions(optuna, space):
    dists = {}
    for name, (kind, args) in space.items():
        if kind == "choice":
            dists[name] = optuna.distributions.CategoricalDistribution(list(args[0]))
        elif kind == "uniform":
            dists[name] = optuna.distributions.FloatDistribution(float(args[0]), float(args[1]))
        elif kind == "quniform":
            low, high, q = args
            dists[name] = optuna.distributions.IntDistribution(round(low / q), round(high / q))
        else:  # BayesianParameterSampling rejects anything else at construction
            raise ValueError(f"Bayesian sampling cannot use {kind!r}")
    return dists


def _to_internal(space, parameters):
    internal = {}
    for name, (kind, args) in space.items():
        value = parameters[name]
        internal[name] = round(value / args[2]) if kind == "quniform" else value
    return internal


def _from_internal(space, internal):
    return {name: internal[name] * args[2] if kind == "quniform" else internal[name]
            for name, (kind, args) in space.items()}


def _state_and_value(optuna, trial):
    states = optuna.trial.TrialState
    if trial.status in _RUNNING:
        return states.RUNNING, None
    metric = trial.metric
    if trial.status == "Completed" and isinstance(metric, (int, float)) and math.isfinite(metric):
        return states.COMPLETE, float(metric)
    return states.FAIL, None


def suggest_bayesian(space, trials, count, seed, goal):
    from ._suggest import derive_seed

    optuna = import_optuna(FEATURE)
    direction = "maximize" if goal is PrimaryMetricGoal.MAXIMIZE else "minimize"
    distributions = _distributions(optuna, space)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna flags constant_liar as experimental in some versions
        sampler = optuna.samplers.TPESampler(seed=derive_seed("amlocal-tpe", seed, len(trials)),
                                             constant_liar=True)
        study = optuna.create_study(direction=direction, sampler=sampler)
        for trial in trials:
            if any(name not in trial.parameters for name in space):
                continue
            state, value = _state_and_value(optuna, trial)
            try:
                frozen = optuna.trial.create_trial(state=state, value=value, distributions=distributions,
                                                   params=_to_internal(space, trial.parameters))
            except (ValueError, TypeError):
                continue  # a value outside this space (e.g. from a sweep resumed with another space)
            study.add_trial(frozen)
        proposals = []
        for _ in range(count):
            asked = study.ask(distributions)
            proposals.append(_from_internal(space, asked.params))
    return proposals

