"""HyperDriveConfig (``azureml.train.hyperdrive.runconfig``): what a sweep is.

The constructor has the SDK's signature and validation. What the sweep controller needs is kept
in plain attributes (``hyperparameter_sampling``, ``policy``, ``primary_metric_name``,
``primary_metric_goal``, ``max_total_runs``, ``max_concurrent_runs``, ``max_duration_minutes``,
``run_config`` / ``estimator``, ``resume_from`` / ``resume_child_runs``), plus the SDK's own
private ones (``_generator_config``, ``_policy_config``, ``_primary_metric_config``,
``_max_total_runs``, ...) that code written against the SDK reads.

``to_dict()`` / ``HyperDriveConfig.from_dict()`` are the sweep as JSON for a detached
controller: everything but the trial's own job, which travels as a RunSpec. ``child_arguments``
is how a child's command line is made from the trial's arguments and a sampled parameter set.
"""

import math
import warnings

from ...exceptions import HyperDriveConfigException, HyperDriveScenarioNotSupportedException
from ._errors import invalid_setting, invalid_type
from ._goal import PrimaryMetricGoal
from .policy import EarlyTerminationPolicy, NoTerminationPolicy, _policy_from_dict
from .sampling import BayesianParameterSampling, HyperParameterSampling, _sampling_from_dict

__all__ = ["HyperDriveConfig", "HyperDriveRunConfig", "PrimaryMetricGoal", "child_arguments"]

MAX_DURATION_MINUTES = 10080  # the service cancels a sweep after this, whatever is asked
MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
MAX_PARENT_RUNS = 5
RESUME_FROM_TOTAL_RUNS = 1000
RECOMMENDED_MIN_RUNS_PER_PARAMETER_BAYESIAN = 20
RECOMMENDED_MAX_CONCURRENT_RUNS_BAYESIAN = 20
DICT_VERSION = 1


def _warn(message):
    warnings.warn(message, UserWarning, stacklevel=3)


def _as_list(value):
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _run_id(run):
    return run if isinstance(run, str) else getattr(run, "id", None)


def _format_value(value):
    """A sampled value as it appears on the child's command line (1.0 stays "1.0", 1 is "1")."""
    return str(value)


def _flag(name):
    # The service passes a parameter named without dashes as "--name" (the v1 docs' PyTorch
    # sample tunes 'learning_rate' for a script that parses --learning_rate).
    return name if name.startswith("-") else f"--{name}"


def child_arguments(base_arguments, parameters, from_estimator=False):
    """A child run's arguments: the trial's own arguments, then each sampled parameter as
    ``[name, value]`` in parameter-space order -- the order the Azure portal shows in a child's
    ``runDefinition.arguments`` (the v1 docs read the sampled values back at indices 3, 5, 7
    after a two-item base).

    ScriptRunConfig (``from_estimator=False``): the base arguments are kept whole, as the SDK
    submits them; a parameter the base already sets ("--kernel linear") is followed by the
    sampled one ("--kernel rbf"), and argparse keeps the last. Estimator (``from_estimator=True``):
    the SDK first drops script_params whose name (without leading dashes) is a sampled
    parameter, so each flag appears once. Data references and other non-scalar arguments pass
    through unchanged; scalars become strings.
    """
    sampled = {name.lstrip("-") for name in parameters}
    arguments, items, index = [], list(base_arguments or ()), 0
    while index < len(items):
        item = items[index]
        if (from_estimator and isinstance(item, str) and item.startswith("-")
                and item.lstrip("-") in sampled):
            index += 1
            if index < len(items) and not (isinstance(items[index], str) and items[index].startswith("--")):
                index += 1  # its value, unless the flag had none
            continue
        arguments.append(str(item) if isinstance(item, (str, int, float, bool)) else item)
        index += 1
    for name, value in parameters.items():
        arguments += [_flag(name), _format_value(value)]
    return arguments


class HyperDriveConfig:
    """A sweep: sampling, primary metric and goal, limits, policy, and the trial (``run_config``
    a ScriptRunConfig, or ``estimator`` an SKLearn) each child runs with sampled arguments."""

    _PLATFORM = "AML"

    def __init__(self, hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs,
                 max_concurrent_runs=None, max_duration_minutes=MAX_DURATION_MINUTES, policy=None, estimator=None,
                 run_config=None, resume_from=None, resume_child_runs=None, pipeline=None, debug_flag=None,
                 custom_run_id=None):
        given = [value for value in (estimator, run_config, pipeline) if value is not None]
        if not given:
            raise invalid_setting("HyperDriveConfig", "at least one of estimator, run_config, pipeline to be set",
                                  "Pass run_config=ScriptRunConfig(...) (or estimator=SKLearn(...)).")
        if len(given) != 1:
            raise invalid_setting("HyperDriveConfig", "only one of estimator, run_config, pipeline to be set",
                                  "Pass either run_config= or estimator=, not both.")
        if pipeline is not None:
            raise HyperDriveScenarioNotSupportedException(
                "HyperDriveConfig(pipeline=...) (a preview feature of the SDK) is not supported by amlocal. "
                "Sweep a ScriptRunConfig with run_config= instead.")
        if run_config is not None:
            from ...core.script_run_config import ScriptRunConfig
            if not isinstance(run_config, ScriptRunConfig):
                raise invalid_type("ScriptRunConfig", "run_config", run_config,
                                   "Use amlocal.core.ScriptRunConfig(source_directory=..., script=..., ...).")
        if estimator is not None:
            from ..sklearn import SKLearn
            if not isinstance(estimator, SKLearn):
                raise invalid_type("an estimator (amlocal.train.sklearn.SKLearn)", "estimator", estimator)
        self._estimator = estimator
        self._run_config = run_config
        self._pipeline = None
        self._debug_flag = debug_flag
        self._custom_run_id = custom_run_id
        self._is_cloud_hydrate = False
        self._configure(hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs,
                        max_concurrent_runs, max_duration_minutes, policy)
        self._set_resume(resume_from, resume_child_runs)

    # -- validation shared by the constructor and from_dict ------------------------------------

    def _configure(self, sampling, metric_name, goal, max_total_runs, max_concurrent_runs, max_duration_minutes,
                   policy):
        if sampling is None:
            raise invalid_setting("HyperDriveConfig", "hyperparameter_sampling to be set",
                                  "For example RandomParameterSampling({'--kernel': choice('linear', 'rbf')}).")
        if not isinstance(sampling, HyperParameterSampling):
            raise invalid_type("HyperParameterSampling", "hyperparameter_sampling", sampling)
        if not isinstance(metric_name, str) or not metric_name.strip():
            raise invalid_setting("HyperDriveConfig", "primary_metric_name to be a non-empty string",
                                  "It must match the name the training script logs, e.g. run.log('Accuracy', acc).")
        if not isinstance(goal, PrimaryMetricGoal):
            goal = PrimaryMetricGoal.from_str(goal)
        for label, value, upper in (("max_total_runs", max_total_runs, MAX_TOTAL_RUNS),
                                    ("max_concurrent_runs", max_concurrent_runs, MAX_CONCURRENT_RUNS)):
            if label == "max_concurrent_runs" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
                raise invalid_setting("HyperDriveConfig", f"{label} to be an integer between 1 and {upper}",
                                      f"Got {value!r}.")
        if (isinstance(max_duration_minutes, bool) or not isinstance(max_duration_minutes, (int, float))
                or not math.isfinite(max_duration_minutes) or max_duration_minutes <= 0):
            raise invalid_setting("HyperDriveConfig", "max_duration_minutes to be a positive number of minutes",
                                  f"Got {max_duration_minutes!r}.")
        if max_duration_minutes > MAX_DURATION_MINUTES:
            _warn(f"The experiment maximum duration provided exceeds the service limit of {MAX_DURATION_MINUTES} "
                  f"minutes. The maximum duration will be overridden with {MAX_DURATION_MINUTES} minutes.")
        if policy is None:
            policy = NoTerminationPolicy()
        if not isinstance(policy, EarlyTerminationPolicy):
            raise invalid_type("EarlyTerminationPolicy", "policy", policy)
        is_bayesian = isinstance(sampling, BayesianParameterSampling)
        if is_bayesian and not isinstance(policy, NoTerminationPolicy):
            raise invalid_setting(
                "BayesianParameterSampling", "no early termination policy",
                f"Got {type(policy).__name__}: Bayesian sampling does not support early termination. Use "
                "policy=None (or NoTerminationPolicy()), or RandomParameterSampling/GridParameterSampling.")

        self.hyperparameter_sampling = sampling
        self.policy = policy
        self.primary_metric_name = metric_name
        self.primary_metric_goal = goal
        self.max_total_runs = max_total_runs
        self.max_concurrent_runs = max_concurrent_runs or max_total_runs
        self.max_duration_minutes = min(max_duration_minutes, MAX_DURATION_MINUTES)
        # The SDK's own attribute names, read by code written against it.
        self._policy_config = policy.to_json()
        self._generator_config = sampling.to_json()
        self._primary_metric_config = {"name": metric_name, "goal": goal.name.lower()}
        self._max_total_runs = max_total_runs
        self._max_concurrent_runs = self.max_concurrent_runs
        self._max_duration_minutes = max_duration_minutes
        self._platform = self._PLATFORM

        if is_bayesian:
            recommended = RECOMMENDED_MIN_RUNS_PER_PARAMETER_BAYESIAN * len(sampling.parameter_space)
            if max_total_runs < recommended:
                _warn("For best results with Bayesian Sampling we recommend using a maximum number of runs greater "
                      f"than or equal to {RECOMMENDED_MIN_RUNS_PER_PARAMETER_BAYESIAN} times the number of "
                      f"hyperparameters being tuned. Recommendend value:{recommended}.")
            if self.max_concurrent_runs > RECOMMENDED_MAX_CONCURRENT_RUNS_BAYESIAN:
                _warn(f"We recommend using {RECOMMENDED_MAX_CONCURRENT_RUNS_BAYESIAN} max concurrent runs or fewer "
                      "when using Bayesian sampling since a higher number might not provide the best result.")

    def _set_resume(self, resume_from, resume_child_runs):
        """Keep the warm-start runs (HyperDriveRun objects or run ids) after the checks that need
        no service; the controller reads their children."""
        resume_from = _as_list(resume_from)
        if resume_from is not None:
            if len(resume_from) > MAX_PARENT_RUNS:
                raise invalid_setting("HyperDriveConfig", f"the number of parent runs to not exceed than "
                                      f"{MAX_PARENT_RUNS}", f"Got {len(resume_from)} runs in resume_from.")
            ids = [_run_id(run) for run in resume_from]
            if None in ids:
                raise invalid_type("HyperDriveRun (or a run id)", "resume_from", resume_from[ids.index(None)])
            if len(set(ids)) != len(ids):
                raise HyperDriveConfigException(
                    "resume_from cannot contain duplicate runs. Pass each previous HyperDrive run once.")
            total = self.max_total_runs + sum(
                getattr(getattr(run, "hyperdrive_config", None), "max_total_runs", 0) or 0 for run in resume_from)
            if total > RESUME_FROM_TOTAL_RUNS:
                raise HyperDriveConfigException(
                    f"The number of total runs should not be greater than {RESUME_FROM_TOTAL_RUNS}. "
                    "Lower max_total_runs or warm start from fewer runs.")
        resume_child_runs = _as_list(resume_child_runs)
        if resume_child_runs is not None:
            if len(resume_child_runs) > self.max_total_runs:
                raise invalid_setting("HyperDriveConfig", "the number of resume_child_runs to not exceed "
                                      "max_total_runs of current run",
                                      f"Got {len(resume_child_runs)} child runs for "
                                      f"max_total_runs={self.max_total_runs}.")
            ids = [_run_id(run) for run in resume_child_runs]
            if None in ids:
                raise invalid_type("Run (or a run id)", "resume_child_runs", resume_child_runs[ids.index(None)])
            if len(set(ids)) != len(ids):
                raise HyperDriveConfigException("resume_child_runs cannot contain duplicate runs.")
        self.resume_from = resume_from
        self.resume_child_runs = resume_child_runs

    # -- the SDK's properties --------------------------------------------------------------------

    @property
    def estimator(self):
        return self._estimator

    @property
    def run_config(self):
        return self._run_config

    @property
    def pipeline(self):
        return self._pipeline

    @property
    def source_directory(self):
        if self._is_cloud_hydrate:
            return None
        trial = self._estimator or self._run_config
        return trial.source_directory if trial is not None else None

    # -- what the controller uses ----------------------------------------------------------------

    @property
    def trial_config(self):
        """The ScriptRunConfig or SKLearn each child runs (None on a config rebuilt from JSON)."""
        return self._estimator or self._run_config

    @property
    def from_estimator(self):
        return self._trial_kind == "estimator"

    @property
    def _trial_kind(self):
        if self._estimator is not None:
            return "estimator"
        if self._run_config is not None:
            return "run_config"
        return getattr(self, "_rehydrated_trial_kind", "run_config")

    def child_arguments(self, parameters, base_arguments=None):
        """A child's arguments for ``parameters``, from ``base_arguments`` (default: the trial's)."""
        if base_arguments is None:
            trial = self.trial_config
            base_arguments = list(getattr(trial, "arguments", None) or [])
        return child_arguments(base_arguments, parameters, from_estimator=self.from_estimator)

    def _submit_to(self, experiment, tags=None):
        """``experiment.submit(hyperdrive_config)``: start the sweep on the workspace's backend
        and return its HyperDriveRun at once."""
        import secrets

        from ...specs import SweepSpec
        from .run import HyperDriveRun

        if self.trial_config is None:
            raise HyperDriveConfigException("This HyperDriveConfig was rebuilt from a finished sweep and has no trial "
                                            "run to sweep; build a new one with run_config= or estimator=.")
        trial = self.trial_config._run_spec(experiment.name)
        seed = self.hyperparameter_sampling.properties.get("seed")
        sweep = SweepSpec(experiment=experiment.name, trial=trial, config=self.to_dict(),
                          seed=secrets.randbits(32) if seed is None else int(seed), tags=dict(tags or {}),
                          run_id=self._custom_run_id)
        run_id = experiment.workspace.backend.submit_sweep(sweep)
        return HyperDriveRun(experiment, run_id, hyperdrive_config=self)

    def to_dict(self):
        """The sweep as plain JSON data (the trial's job itself travels separately as a RunSpec)."""
        return {
            "version": DICT_VERSION,
            "sampling": self._generator_config,
            "policy": self._policy_config,
            "primary_metric": dict(self._primary_metric_config),
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self._max_duration_minutes,
            "trial_kind": self._trial_kind,
            "resume_from": None if self.resume_from is None else [_run_id(r) for r in self.resume_from],
            "resume_child_runs": (None if self.resume_child_runs is None
                                  else [_run_id(r) for r in self.resume_child_runs]),
            "custom_run_id": self._custom_run_id,
        }

    @classmethod
    def from_dict(cls, data):
        """A config rebuilt from ``to_dict()``: everything but the trial (``run_config`` and
        ``estimator`` are None, as on a config the SDK rehydrates from the service)."""
        if not isinstance(data, dict):
            raise invalid_type("dict", "HyperDriveConfig data", data)
        if data.get("version") != DICT_VERSION:
            raise HyperDriveConfigException(
                f"Unsupported HyperDriveConfig description version {data.get('version')!r} (this amlocal reads "
                f"version {DICT_VERSION}). Resubmit the sweep with this version of amlocal.")
        config = cls.__new__(cls)
        config._estimator = config._run_config = config._pipeline = None
        config._debug_flag = None
        config._custom_run_id = data.get("custom_run_id")
        config._is_cloud_hydrate = True
        kind = data.get("trial_kind", "run_config")
        if kind not in ("run_config", "estimator"):
            raise HyperDriveConfigException(f"Unknown trial_kind {kind!r} in a HyperDriveConfig description.")
        config._rehydrated_trial_kind = kind
        metric = data.get("primary_metric") or {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the submitter already saw them
            config._configure(_sampling_from_dict(data.get("sampling")), metric.get("name"),
                              metric.get("goal"), data.get("max_total_runs"), data.get("max_concurrent_runs"),
                              data.get("max_duration_minutes", MAX_DURATION_MINUTES),
                              _policy_from_dict(data.get("policy") or {"name": "Default"}))
        config._set_resume(data.get("resume_from"), data.get("resume_child_runs"))
        return config

    def __repr__(self):
        return (f"HyperDriveConfig(sampling={self.hyperparameter_sampling!r}, policy={self.policy!r}, "
                f"primary_metric={self.primary_metric_name!r} ({self.primary_metric_goal.name}), "
                f"max_total_runs={self.max_total_runs}, max_concurrent_runs={self.max_concurrent_runs})")


class HyperDriveRunConfig(HyperDriveConfig):
    """Deprecated by the SDK in favour of HyperDriveConfig; builds one (with a warning)."""

    def __new__(cls, estimator, hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs,
                max_concurrent_runs=None, max_duration_minutes=MAX_DURATION_MINUTES, policy=None):
        _warn("HyperDriveRunConfig is deprecated. Please use the new HyperDriveConfig class.")
        return HyperDriveConfig(hyperparameter_sampling=hyperparameter_sampling,
                                primary_metric_name=primary_metric_name, primary_metric_goal=primary_metric_goal,
                                max_total_runs=max_total_runs, max_concurrent_runs=max_concurrent_runs,
                                max_duration_minutes=max_duration_minutes, policy=policy, estimator=estimator)

