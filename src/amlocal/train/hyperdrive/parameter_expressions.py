"""Functions that describe a hyperparameter search space (``azureml.train.hyperdrive.parameter_expressions``).

Each returns the same plain structure the SDK returns and sends to the service, e.g.
``choice(1, 2)`` is ``["choice", [[1, 2]]]`` and ``uniform(0, 1)`` is ``["uniform", [0, 1]]``,
so a search space is JSON as it is. The validation and its messages are the SDK's.
How each expression is sampled lives in ``_distributions``.
"""

from ...exceptions import HyperDriveConfigException
from ._errors import invalid_setting

__all__ = ["choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
           "normal", "qnormal", "lognormal", "qlognormal"]

_CHOICE_CONDITION = ("non-empty single list, non-empty single range() or a positive "
                     "number of arbitrary comma separated inputs.")


def _is_number(value):
    return isinstance(value, (int, float))


def _is_integral(q):
    return isinstance(q, int) or (isinstance(q, float) and q.is_integer())


def _check_numbers(name, **values):
    for label, value in values.items():
        if not _is_number(value):
            raise invalid_setting(name, f"{label} to be a float", f"Got {value!r}.")


def _check_q(name, q):
    if not _is_integral(q):
        raise invalid_setting(name, "q to be an int", f"Got {q!r}; q is the step values are rounded to.")


def choice(*options):
    """A discrete set of options: ``choice(1, 2, 3)``, ``choice([1, 2, 3])`` or ``choice(range(1, 4))``."""
    if len(options) == 0:
        raise HyperDriveConfigException("Please specify an input for choice. For example choice('linear', 'rbf').")
    for item in options:
        if isinstance(item, (range, list)):
            if len(options) > 1 or not item:
                raise invalid_setting("choice", _CHOICE_CONDITION,
                                      "For example choice([1, 2]), choice(range(1, 5)) or choice(1, 2).")
            return ["choice", [list(item)]]
    return ["choice", [list(options)]]


def randint(upper):
    """A random integer in [0, upper): the upper bound is excluded."""
    if not isinstance(upper, int) or upper <= 0:
        raise invalid_setting("randint", "a positive number as input", f"Got {upper!r}.")
    return ["randint", [upper]]


def uniform(min_value, max_value):
    """A value uniformly distributed between min_value and max_value."""
    _check_numbers("uniform", min_value=min_value, max_value=max_value)
    if min_value >= max_value:
        raise invalid_setting("uniform", "min_value < max_value", f"Got {min_value!r} and {max_value!r}.")
    return ["uniform", [min_value, max_value]]


def quniform(min_value, max_value, q):
    """``round(uniform(min_value, max_value) / q) * q``."""
    _check_numbers("quniform", min_value=min_value, max_value=max_value)
    _check_q("quniform", q)
    if min_value >= max_value:
        raise invalid_setting("quniform", "min_value < max_value", f"Got {min_value!r} and {max_value!r}.")
    return ["quniform", [min_value, max_value, q]]


def loguniform(min_value, max_value):
    """``exp(uniform(min_value, max_value))``: the bounds are exponents, the values lie in
    [exp(min_value), exp(max_value)]."""
    _check_numbers("loguniform", min_value=min_value, max_value=max_value)
    if min_value > max_value:
        raise invalid_setting("loguniform", "min_value <= max_value", f"Got {min_value!r} and {max_value!r}.")
    return ["loguniform", [min_value, max_value]]


def qloguniform(min_value, max_value, q):
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""
    _check_numbers("qloguniform", min_value=min_value, max_value=max_value)
    _check_q("qloguniform", q)
    if min_value > max_value:
        raise invalid_setting("qloguniform", "min_value <= max_value", f"Got {min_value!r} and {max_value!r}.")
    return ["qloguniform", [min_value, max_value, q]]


def _check_normal(name, mu, sigma):
    _check_numbers(name, mu=mu, sigma=sigma)
    if sigma < 0:
        raise invalid_setting(name, "sigma to be non negative", f"Got {sigma!r}.")


def normal(mu, sigma):
    """A real value normally distributed with mean mu and standard deviation sigma."""
    _check_normal("normal", mu, sigma)
    return ["normal", [mu, sigma]]


def qnormal(mu, sigma, q):
    """``round(normal(mu, sigma) / q) * q``."""
    _check_normal("qnormal", mu, sigma)
    _check_q("qnormal", q)
    return ["qnormal", [mu, sigma, q]]


def lognormal(mu, sigma):
    """``exp(normal(mu, sigma))``."""
    _check_normal("lognormal", mu, sigma)
    return ["lognormal", [mu, sigma]]


def qlognormal(mu, sigma, q):
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    _check_normal("qlognormal", mu, sigma)
    _check_q("qlognormal", q)
    return ["qlognormal", [mu, sigma, q]]
