"""Hyperparameter sampling definitions (``azureml.train.hyperdrive.sampling``).

A sampling is plain data, as in the SDK: a method name, a parameter space (parameter name ->
expression from ``parameter_expressions``) and optional properties; ``to_json()`` is what the
service receives. Which values a sweep actually tries is decided by ``suggest`` (in
``_suggest``), which the sweep controller calls with the trials so far.

``RandomParameterSampling(space, properties={"rule": "sobol", "seed": 7})``: the v1 SDK has no
``rule``/``seed`` arguments (those came with v2's ``RandomSamplingAlgorithm``); amlocal reads
them from the free-form ``properties`` dict the v1 class has, so the signature stays the SDK's.
"""

import inspect
import sys
from abc import ABC

from ...exceptions import HyperDriveConfigException
from ._distributions import EXPRESSION_NAMES
from ._errors import invalid_setting, invalid_type

__all__ = ["HyperParameterSampling", "RandomParameterSampling", "GridParameterSampling",
           "BayesianParameterSampling"]

RANDOM_RULES = ("random", "sobol")


def _check_parameter_space(parameter_space, method):
    if not isinstance(parameter_space, dict) or not parameter_space:
        raise invalid_setting(method, "parameter_space to be a non-empty dict",
                              "For example {'--kernel': choice('linear', 'rbf'), '--penalty': uniform(0.5, 1.5)}.")
    for name, expression in parameter_space.items():
        if not isinstance(name, str) or not name.strip():
            raise invalid_setting(method, "parameter names to be non-empty strings", f"Got {name!r}.")
        if (not isinstance(expression, (list, tuple)) or len(expression) != 2
                or expression[0] not in EXPRESSION_NAMES or not isinstance(expression[1], (list, tuple))):
            raise invalid_setting(
                method, "each parameter to be described by a parameter expression",
                f"Parameter {name!r} is {expression!r}; use choice(...), uniform(...), randint(...) or another "
                "function of amlocal.train.hyperdrive.parameter_expressions.")


def _sampling_from_dict(dict_sampling):
    """Rebuild a sampling from its ``to_json()`` form (the SDK's rehydration helper)."""
    if not isinstance(dict_sampling, dict):
        raise invalid_type("dict", "dict_sampling", dict_sampling)
    if "name" not in dict_sampling:
        raise HyperDriveConfigException("Could not find name in dict_sampling.")
    for _, cls in inspect.getmembers(sys.modules[__name__], inspect.isclass):
        if getattr(cls, "SAMPLING_NAME", "").lower() == str(dict_sampling["name"]).lower():
            return cls._from_dict(dict_sampling)
    known = (RandomParameterSampling, GridParameterSampling, BayesianParameterSampling)
    raise HyperDriveConfigException(
        f"Failed to rehydrate run due to unknown sampling method {dict_sampling['name']!r}. Known: "
        f"{', '.join(c.SAMPLING_NAME for c in known)}.")


class HyperParameterSampling(ABC):
    """Base class of the sampling methods: a name, a parameter space and properties."""

    def __init__(self, sampling_method_name, parameter_space, properties=None,
                 supported_distributions=None, distributions_validators=None):
        self._sampling_method_name = sampling_method_name
        self._parameter_space = parameter_space
        self._properties = properties
        self._supported_distributions = supported_distributions
        self._distributions_validators = distributions_validators
        _check_parameter_space(parameter_space, type(self).__name__)
        if properties is not None and not isinstance(properties, dict):
            raise invalid_type("dict", "properties", properties)
        self._validate_supported_distributions()

    @property
    def parameter_space(self):
        """The parameter name -> expression dict, as given."""
        return self._parameter_space

    @property
    def properties(self):
        return dict(self._properties or {})

    def to_json(self):
        """The definition the service receives: name, parameter_space and (if any) properties."""
        definition = {"name": self._sampling_method_name, "parameter_space": self._parameter_space}
        if self._properties:
            definition["properties"] = self._properties
        return definition

    def _validate_supported_distributions(self):
        if not self._supported_distributions:
            return
        for name, distribution in self._parameter_space.items():
            if distribution[0] not in self._supported_distributions:
                supported = ", ".join(sorted(self._supported_distributions))
                raise invalid_setting(
                    "This sampling method", f"only the following distributions: [{supported}]",
                    f"Parameter {name!r} uses {distribution[0]}; use {type(self).__name__} with "
                    f"{' or '.join(sorted(self._supported_distributions))}, or RandomParameterSampling.")
            validator = (self._distributions_validators or {}).get(distribution[0])
            if validator is not None:
                ok, reason = validator(distribution)
                if not ok:
                    raise HyperDriveConfigException(
                        f"Failed to validate a parameter distribution due to {reason} (parameter {name!r}).")

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __repr__(self):
        extra = f", properties={self._properties!r}" if self._properties else ""
        return f"{type(self).__name__}({self._parameter_space!r}{extra})"

    @staticmethod
    def _validate_dict_sampling(dict_sampling, name):
        if (not isinstance(dict_sampling, dict) or "name" not in dict_sampling
                or str(dict_sampling["name"]).lower() != name.lower()):
            raise HyperDriveConfigException(
                f"Invalid arguments received for _validate_dict_sampling method: expected a dict with name {name!r}.")
        if "parameter_space" not in dict_sampling:
            raise HyperDriveConfigException("Could not find parameter_space in dict_sampling.")

    @staticmethod
    def _choice_validator(choice_definition):
        choice_values = choice_definition[1][0]
        if not choice_values:
            return False, "At least one 'choice' value is required."
        for value in choice_values:
            if type(value) not in (int, str, float):
                return False, "'choice' values should be 'int', 'string' or 'float'."
        types = [type(c) for c in choice_values]
        if types.count(str) % len(types) != 0:
            return False, "Either all or none of the 'choice' values should be 'str' type."
        return True, None


class RandomParameterSampling(HyperParameterSampling):
    """Random sampling over a search space of any expressions.

    ``properties`` may carry ``"rule"`` (``"random"``, the default, or ``"sobol"`` for a
    scrambled Sobol sequence; needs ``amlocal[hyperdrive]``) and ``"seed"`` (an int that fixes
    the sequence, overriding the sweep's own seed).
    """

    SAMPLING_NAME = "RANDOM"

    def __init__(self, parameter_space, properties=None):
        super().__init__(RandomParameterSampling.SAMPLING_NAME, parameter_space, properties)
        rule = self.properties.get("rule", "random")
        if not isinstance(rule, str) or rule.lower() not in RANDOM_RULES:
            raise invalid_setting("RandomParameterSampling", "properties['rule'] to be 'random' or 'sobol'",
                                  f"Got {rule!r}.")
        seed = self.properties.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise invalid_setting("RandomParameterSampling", "properties['seed'] to be a non-negative int",
                                  f"Got {seed!r}.")

    @property
    def rule(self):
        return self.properties.get("rule", "random").lower()

    @property
    def seed(self):
        return self.properties.get("seed")

    @staticmethod
    def _from_dict(dict_sampling):
        HyperParameterSampling._validate_dict_sampling(dict_sampling, RandomParameterSampling.SAMPLING_NAME)
        return RandomParameterSampling(parameter_space=dict_sampling["parameter_space"],
                                       properties=dict_sampling.get("properties"))


class GridParameterSampling(HyperParameterSampling):
    """Every combination of ``choice`` values, each tried once (only ``choice`` is accepted)."""

    SAMPLING_NAME = "GRID"

    def __init__(self, parameter_space, properties=None):
        super().__init__(GridParameterSampling.SAMPLING_NAME, parameter_space, properties=properties,
                         supported_distributions={"choice"}, distributions_validators=None)

    @staticmethod
    def _from_dict(dict_sampling):
        HyperParameterSampling._validate_dict_sampling(dict_sampling, GridParameterSampling.SAMPLING_NAME)
        return GridParameterSampling(parameter_space=dict_sampling["parameter_space"],
                                     properties=dict_sampling.get("properties"))


class BayesianParameterSampling(HyperParameterSampling):
    """Bayesian optimisation: each new trial is chosen from how the finished ones did.

    Only ``choice``, ``uniform`` and ``quniform`` are accepted, and no early termination
    policy (``HyperDriveConfig`` checks that). Locally the sampler is Optuna's TPE, seeded, so a
    sweep with the same seed and the same results proposes the same trials; it needs
    ``pip install 'amlocal[hyperdrive]'``.
    """

    SAMPLING_NAME = "BayesianOptimization"

    def __init__(self, parameter_space, properties=None):
        if parameter_space is None:
            raise invalid_setting("BayesianParameterSampling", "parameter_space to not be None or empty.",
                                  "For example {'--learning_rate': uniform(0.05, 0.1)}.")
        super().__init__(BayesianParameterSampling.SAMPLING_NAME, parameter_space, properties=properties,
                         supported_distributions={"choice", "quniform", "uniform"},
                         distributions_validators={"choice": self._choice_validator,
                                                   "quniform": self._bayesian_quniform_validator})

    @staticmethod
    def _bayesian_quniform_validator(quniform_definition):
        values = quniform_definition[1]
        for item in values:
            if type(item) is not int:
                return False, "Expected quniform arguments to be int."
        low, high, q = values
        if (high - low) / q > 100000:
            return False, "Too many discrete points for quniform distribution. Use larger q or uniform instead."
        return True, None

    @staticmethod
    def _from_dict(dict_sampling):
        HyperParameterSampling._validate_dict_sampling(dict_sampling, BayesianParameterSampling.SAMPLING_NAME)
        return BayesianParameterSampling(parameter_space=dict_sampling["parameter_space"],
                                         properties=dict_sampling.get("properties"))
