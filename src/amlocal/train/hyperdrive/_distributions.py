"""What each parameter expression means as a distribution: one home for the sampling rules.

Every expression is sampled from a point ``u`` in [0, 1) by its inverse CDF, so the random rule
(``u`` from ``random.Random``) and the Sobol rule (``u`` from a Sobol sequence) share one
definition. The rules are those the SDK documents for each expression:

    choice(*v)                 one of v, each equally likely
    randint(upper)             an int in [0, upper) -- upper excluded
    uniform(lo, hi)            lo + u * (hi - lo)
    quniform(lo, hi, q)        round(uniform(lo, hi) / q) * q
    loguniform(lo, hi)         exp(uniform(lo, hi))  -- lo and hi are exponents
    qloguniform(lo, hi, q)     round(exp(uniform(lo, hi)) / q) * q
    normal(mu, sigma)          mu + sigma * Phi^-1(u)
    qnormal(mu, sigma, q)      round(normal(mu, sigma) / q) * q
    lognormal(mu, sigma)       exp(normal(mu, sigma))
    qlognormal(mu, sigma, q)   round(exp(normal(mu, sigma)) / q) * q

Quantised values are ints when q is an int (``round(x / 3) * 3``), as Python computes them.
Pure standard library: importing this loads neither numpy nor scipy.
"""

import itertools
import math
from statistics import NormalDist

EXPRESSION_NAMES = frozenset({"choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
                              "normal", "qnormal", "lognormal", "qlognormal"})
FINITE_EXPRESSIONS = frozenset({"choice", "randint"})

# Phi^-1(0) is -inf; keep u strictly inside (0, 1) for the normal family.
_EDGE = 1e-12
_STANDARD_NORMAL = NormalDist()


def _quantize(value, q):
    return round(value / q) * q


def _gaussian(mu, sigma, u):
    if sigma == 0:
        return float(mu)
    return mu + sigma * _STANDARD_NORMAL.inv_cdf(min(max(u, _EDGE), 1 - _EDGE))


def value_at(expression, u):
    """The value of ``expression`` (e.g. ``["uniform", [0, 1]]``) at quantile ``u`` in [0, 1)."""
    name, args = expression[0], expression[1]
    if name == "choice":
        options = args[0]
        return options[min(int(u * len(options)), len(options) - 1)]
    if name == "randint":
        return min(int(u * args[0]), args[0] - 1)
    if name in ("uniform", "quniform", "loguniform", "qloguniform"):
        low, high = args[0], args[1]
        value = low + u * (high - low)
        if name in ("loguniform", "qloguniform"):
            value = math.exp(value)
        return _quantize(value, args[2]) if name.startswith("q") else value
    if name in ("normal", "qnormal", "lognormal", "qlognormal"):
        value = _gaussian(args[0], args[1], u)
        if name in ("lognormal", "qlognormal"):
            value = math.exp(value)
        return _quantize(value, args[2]) if name.startswith("q") else value
    raise ValueError(f"unknown parameter expression {name!r}")


def finite_values(expression):
    """Every value of a ``choice`` or ``randint`` expression, in order; None for the others."""
    name, args = expression[0], expression[1]
    if name == "choice":
        return list(args[0])
    if name == "randint":
        return list(range(args[0]))
    return None


def space_size(parameter_space):
    """How many distinct parameter sets the space holds, or None when it is continuous."""
    size = 1
    for expression in parameter_space.values():
        if expression[0] not in FINITE_EXPRESSIONS:
            return None
        size *= len(expression[1][0]) if expression[0] == "choice" else expression[1][0]
    return size


def combination_at(parameter_space, index):
    """The ``index``-th parameter set of a finite space, in grid order (the last parameter varies
    fastest, as ``itertools.product`` does)."""
    names = list(parameter_space)
    values = [finite_values(parameter_space[name]) for name in names]
    chosen = {}
    for name, options in zip(reversed(names), reversed(values)):
        index, position = divmod(index, len(options))
        chosen[name] = options[position]
    return {name: chosen[name] for name in names}


def grid(parameter_space):
    """Every parameter set of a finite space, in grid order."""
    names = list(parameter_space)
    for combination in itertools.product(*(finite_values(parameter_space[n]) for n in names)):
        yield dict(zip(names, combination))


def _freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    return value


def parameters_key(parameter_space, parameters):
    """A hashable identity of a parameter set over the space's names (1 and 1.0 are the same,
    as they are once passed to a script)."""
    return tuple((name, _freeze(parameters.get(name))) for name in parameter_space)
