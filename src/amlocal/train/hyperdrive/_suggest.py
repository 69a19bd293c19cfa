"""Which parameter sets a sweep tries next: a pure, seeded function of the sampling and the
trials so far, so a restarted controller that passes the same history proposes the same trials.

    suggest(sampling, history, count, seed=0, goal=MAXIMIZE) -> Suggestion(parameters, exhausted)

- Grid: the grid in order (last parameter fastest), skipping sets already in the history;
  ``exhausted`` once every set has been tried.
- Random (rule "random"): the k-th candidate comes from its own generator seeded with
  (seed, k). A space of only ``choice``/``randint`` is finite: it is drawn without repetition
  (a seeded shuffle of all its sets) and is ``exhausted`` when every set has been tried, as
  the service ends a sweep "when the sample space is smaller than max_total_runs". A space
  with a continuous parameter never runs out; a repeated draw is skipped.
- Random (rule "sobol"): the points of one scrambled Sobol sequence (scipy.stats.qmc, seeded),
  in order, skipping those already tried.
- Bayesian: Optuna's TPE sampler, rebuilt from the history at every call (``_bayesian``).

A history entry is a ``Trial`` or a tuple (parameters, primary metric or None, status).
A seed in the sampling's ``properties`` wins over the ``seed`` argument.
"""

import hashlib
import random
from dataclasses import dataclass, field

from ._distributions import combination_at, grid, parameters_key, space_size, value_at
from ._goal import PrimaryMetricGoal, as_goal
from .sampling import BayesianParameterSampling, GridParameterSampling, HyperParameterSampling, RandomParameterSampling

__all__ = ["Suggestion", "Trial", "suggest", "sample_space_size"]

# Finite spaces up to this size are drawn as a seeded shuffle of all their sets (exact
# exhaustion); larger ones are drawn at random with repeats skipped.
_SHUFFLE_LIMIT = 200_000
# A continuous space repeats a set essentially never; this only bounds pathological spaces
# (e.g. qnormal with a huge q) that keep producing sets already tried.
_MAX_SKIPPED = 10_000


@dataclass(frozen=True)
class Trial:
    """One trial of a sweep as the sampler sees it."""

    parameters: dict
    metric: float = None
    status: str = "Completed"

    @classmethod
    def coerce(cls, entry):
        if isinstance(entry, cls):
            return entry
        if isinstance(entry, dict):
            return cls(parameters=dict(entry["parameters"]), metric=entry.get("metric"),
                       status=entry.get("status", "Completed"))
        parameters, metric, status = entry
        return cls(parameters=dict(parameters), metric=metric, status=status)


@dataclass(frozen=True)
class Suggestion:
    """``parameters``: up to ``count`` new parameter sets; ``exhausted``: the space has no
    untried set left (a grid, or a finite random space), so the sweep can end early."""

    parameters: list = field(default_factory=list)
    exhausted: bool = False


def derive_seed(*parts):
    """A 32-bit seed from any values, the same in every process (unlike ``hash``)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def sample_space_size(sampling):
    """How many distinct parameter sets the sampling can produce; None when unbounded."""
    return space_size(sampling.parameter_space)


def suggest(sampling, history=(), count=1, seed=0, goal=PrimaryMetricGoal.MAXIMIZE):
    """The next ``count`` parameter sets to try. Blocks only for the Bayesian sampler's model
    fit (milliseconds); raises MissingOptionalDependencyError for Sobol or Bayesian without
    ``amlocal[hyperdrive]``."""
    if not isinstance(sampling, HyperParameterSampling):
        raise TypeError(f"sampling must be a HyperParameterSampling, got {type(sampling).__name__}")
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    trials = [Trial.coerce(entry) for entry in history]
    seed = sampling.properties.get("seed", seed)
    if isinstance(sampling, GridParameterSampling):
        return _grid(sampling.parameter_space, trials, count)
    if isinstance(sampling, BayesianParameterSampling):
        from ._bayesian import suggest_bayesian
        return Suggestion(suggest_bayesian(sampling.parameter_space, trials, count, seed, as_goal(goal)), False)
    if isinstance(sampling, RandomParameterSampling) and sampling.rule == "sobol":
        return _sobol(sampling.parameter_space, trials, count, seed)
    return _random(sampling.parameter_space, trials, count, seed)


def _tried(space, trials):
    return {parameters_key(space, t.parameters) for t in trials}


def _take(candidates, space, tried, count, limit=None):
    """The first ``count`` candidates not tried yet (the chosen ones count as tried)."""
    chosen, skipped = [], 0
    for parameters in candidates:
        if len(chosen) >= count:
            break
        key = parameters_key(space, parameters)
        if key in tried:
            skipped += 1
            if limit is not None and skipped > limit:
                break
            continue
        tried.add(key)
        chosen.append(parameters)
    return chosen


def _finite_remaining(space, tried):
    size = space_size(space)
    return None if size is None else size - sum(1 for key in tried if _in_space(space, key))


def _in_space(space, key):
    for (name, value) in key:
        values = space[name][1][0] if space[name][0] == "choice" else range(space[name][1][0])
        if value not in values:
            return False
    return True


def _grid(space, trials, count):
    tried = _tried(space, trials)
    chosen = _take(grid(space), space, tried, count)
    return Suggestion(chosen, _finite_remaining(space, tried) <= 0)


def _shuffled_sets(space, seed):
    order = list(range(space_size(space)))
    random.Random(derive_seed("amlocal-shuffle", seed)).shuffle(order)
    return (combination_at(space, index) for index in order)


def _random_sets(space, seed):
    k = 0
    while True:
        rng = random.Random(derive_seed("amlocal-random", seed, k))
        yield {name: value_at(expression, rng.random()) for name, expression in space.items()}
        k += 1


def _random(space, trials, count, seed):
    tried = _tried(space, trials)
    size = space_size(space)
    if size is not None and size <= _SHUFFLE_LIMIT:
        chosen = _take(_shuffled_sets(space, seed), space, tried, count)
        return Suggestion(chosen, _finite_remaining(space, tried) <= 0)
    chosen = _take(_random_sets(space, seed), space, tried, count, limit=_MAX_SKIPPED + len(trials))
    return Suggestion(chosen, size is not None and _finite_remaining(space, tried) <= 0)


def _sobol(space, trials, count, seed):
    from ._optional import import_scipy_qmc

    qmc = import_scipy_qmc("RandomParameterSampling with properties={'rule': 'sobol'}")
    tried = _tried(space, trials)
    remaining = _finite_remaining(space, tried)
    if remaining is not None and remaining <= 0:
        return Suggestion([], True)
    if remaining is not None:
        count = min(count, remaining)
    names = list(space)
    # Points already used are skipped, so the sequence is walked from its start each call; it
    # is extended (in powers of two, which keep Sobol's balance) until enough new points appear.
    chosen, m = [], max(1, (len(trials) + count).bit_length())
    size = space_size(space)
    last_m = 20 if size is None else min(20, max(m, (size * 8).bit_length()))
    while m <= last_m:
        points = qmc.Sobol(d=len(names), scramble=True, seed=seed).random_base2(m)
        candidates = ({name: value_at(space[name], float(u)) for name, u in zip(names, point)} for point in points)
        chosen = _take(candidates, space, set(tried), count)
        if len(chosen) >= count:
            break
        m += 1
    if len(chosen) < count and remaining is not None:
        # A small finite space can repeat Sobol points forever; finish with its shuffle.
        taken = set(tried) | {parameters_key(space, p) for p in chosen}
        chosen += _take(_shuffled_sets(space, seed), space, taken, count - len(chosen))
    for parameters in chosen:
        tried.add(parameters_key(space, parameters))
    return Suggestion(chosen, remaining is not None and _finite_remaining(space, tried) <= 0)
