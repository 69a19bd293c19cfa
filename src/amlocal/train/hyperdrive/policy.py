"""Early termination policies (``azureml.train.hyperdrive.policy``) and the rules that apply them.

The classes are the SDK's (same signatures, validation, ``to_json()``). ``evaluate(policy,
series, goal, running)`` is the service's side: given every child's primary-metric reports so
far it returns which running children to cancel now, each with the reason that becomes the
child's Canceled details. It is pure: the same inputs always give the same answer, so the
sweep controller can call it after every batch of new metrics.

When a policy looks at a run (documented for all three policies, SDK docstrings and
https://learn.microsoft.com/azure/machine-learning/v1/how-to-tune-hyperparameters-v1):
- Each report of the primary metric is one interval: the k-th value a run logs is interval k.
- The policy applies at every multiple of ``evaluation_interval`` that is >= ``delay_evaluation``.
  A run is judged at the latest such interval it has reached, against the other runs' reports
  up to that same interval, so a young run is never compared with older runs' later values.
- A run's performance at interval t is its best value over intervals 1..t.

Bandit (slack relative to the best run at the same interval): with ``best`` the best value any
run reported up to interval t, cancel a run whose own best is
    maximize: below best / (1 + slack_factor)      or below best - slack_amount
    minimize: above best * (1 + slack_factor)      or above best + slack_amount
(docs: best 0.8, slack_factor 0.2 -> runs below 0.8 / 1.2 = 0.667 are cancelled). The best run
itself is never cancelled.

MedianStopping: cancel a run whose best value up to interval t is worse than the median, over
all runs, of each run's running average over intervals 1..t (a run that stopped earlier
contributes the average of all it reported).

TruncationSelection: rank the runs at interval t by their best value up to t (runs still running
count only once they reach t; finished runs count with all they reported, as the SDK sends
``exclude_finished_jobs: False``) and cancel the running ones among the lowest
``truncation_percentage`` percent. The count rounds down: floor(n * percentage / 100) runs,
so 20% of 4 runs cancels none and 20% of 5 runs cancels one. Ties rank by run id.
"""

import inspect
import math
import statistics
import sys
from abc import ABC
from dataclasses import dataclass

from ...exceptions import HyperDriveConfigException
from ._errors import invalid_setting, invalid_type
from ._goal import PrimaryMetricGoal, as_goal, best_of

__all__ = ["EarlyTerminationPolicy", "BanditPolicy", "MedianStoppingPolicy", "TruncationSelectionPolicy",
           "NoTerminationPolicy", "Termination", "evaluate"]


@dataclass(frozen=True)
class Termination:
    """A decision to cancel ``run_id``, taken at ``interval``, for ``reason``."""

    run_id: str
    interval: int
    reason: str


def _check_int(name, value, minimum):
    if not isinstance(value, int):
        raise invalid_type("int", name, value)
    if value < minimum:
        raise invalid_setting(name, f"a value >= {minimum}", f"Got {value!r}.")


def _policy_from_dict(dict_policy):
    """Rebuild a policy from its ``to_json()`` form (the SDK's rehydration helper)."""
    if not isinstance(dict_policy, dict):
        raise invalid_type("dict", "dict_policy", dict_policy)
    if "name" not in dict_policy:
        raise HyperDriveConfigException("Could not find name in dict_policy.")
    for _, cls in inspect.getmembers(sys.modules[__name__], inspect.isclass):
        if getattr(cls, "POLICY_NAME", "").lower() == str(dict_policy["name"]).lower():
            return cls._from_dict(dict_policy)
    raise HyperDriveConfigException(
        f"Unknown policy {dict_policy['name']}. Known: Bandit, MedianStopping, TruncationSelection, Default.")


class EarlyTerminationPolicy(ABC):
    """Base class of the early termination policies: a name and JSON properties."""

    def __init__(self, name, properties=None):
        self._name = name
        self._properties = properties

    def to_json(self):
        """The definition the service receives: name and (if any) properties."""
        termination_policy = {"name": self._name}
        if self._properties is not None:
            termination_policy["properties"] = self._properties
        return termination_policy

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in (self._properties or {}).items())
        return f"{type(self).__name__}({args})"

    @staticmethod
    def _validate_dict_policy(dict_policy, name):
        if (not isinstance(dict_policy, dict) or "name" not in dict_policy
                or str(dict_policy["name"]).lower() != name.lower()):
            raise HyperDriveConfigException(
                f"Invalid arguments received for _validate_dict_policy method: expected a dict with name {name!r}.")

    @staticmethod
    def _properties_of(dict_policy):
        if "properties" not in dict_policy:
            raise HyperDriveConfigException("Could not find properties in dict_policy.")
        return dict_policy["properties"]

    def _evaluation_point(self, reports):
        """The latest interval <= ``reports`` at which this policy applies, or None."""
        interval, delay = self._evaluation_interval, self._delay_evaluation
        point = reports - reports % interval
        return point if point >= max(delay, 1) else None

    def _judge(self, run_id, interval, curves, running, goal, metric_name):
        """The reason to cancel ``run_id`` at ``interval``, or None to let it go on."""
        return None


class _ScheduledPolicy(EarlyTerminationPolicy):
    """A policy applied every ``evaluation_interval`` reports, from ``delay_evaluation`` on."""

    def __init__(self, name, evaluation_interval, delay_evaluation, properties):
        _check_int("evaluation_interval", evaluation_interval, 1)
        _check_int("delay_evaluation", delay_evaluation, 0)
        super().__init__(name, {"evaluation_interval": evaluation_interval, "delay_evaluation": delay_evaluation,
                                **properties})
        self._evaluation_interval = evaluation_interval
        self._delay_evaluation = delay_evaluation

    @property
    def evaluation_interval(self):
        return self._evaluation_interval

    @property
    def delay_evaluation(self):
        return self._delay_evaluation


class BanditPolicy(_ScheduledPolicy):
    """Cancel runs whose best metric is not within a slack of the best run's at the same interval."""

    POLICY_NAME = "Bandit"

    def __init__(self, evaluation_interval=1, slack_factor=None, slack_amount=None, delay_evaluation=0):
        if (slack_factor is None) == (slack_amount is None):
            raise invalid_setting("Bandit termination policy", "exactly one of slack factor or slack amount to be set.",
                                  "For example BanditPolicy(slack_factor=0.1, evaluation_interval=1).")
        for label, value in (("slack_factor", slack_factor), ("slack_amount", slack_amount)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise invalid_setting("Bandit termination policy", f"{label} to be a non-negative number",
                                      f"Got {value!r}.")
        slack = {"slack_factor": slack_factor} if slack_factor is not None else {"slack_amount": slack_amount}
        super().__init__(BanditPolicy.POLICY_NAME, evaluation_interval, delay_evaluation, slack)
        self._slack_factor = slack_factor
        self._slack_amount = slack_amount

    @property
    def slack_factor(self):
        return self._slack_factor

    @property
    def slack_amount(self):
        return self._slack_amount

    @staticmethod
    def _from_dict(dict_policy):
        EarlyTerminationPolicy._validate_dict_policy(dict_policy, BanditPolicy.POLICY_NAME)
        p = EarlyTerminationPolicy._properties_of(dict_policy)
        return BanditPolicy(p.get("evaluation_interval", 1), p.get("slack_factor"), p.get("slack_amount"),
                            p.get("delay_evaluation", 0))

    def threshold(self, best, goal):
        """The worst value a run may have and go on, given the best run's ``best``."""
        maximize = as_goal(goal) is PrimaryMetricGoal.MAXIMIZE
        if self._slack_factor is not None:
            return best / (1 + self._slack_factor) if maximize else best * (1 + self._slack_factor)
        return best - self._slack_amount if maximize else best + self._slack_amount

    def _judge(self, run_id, interval, curves, running, goal, metric_name):
        best_run, best = _best_run_at(curves, interval, goal)
        own = best_of(curves[run_id][:interval], goal)
        if run_id == best_run or own == best:
            return None
        limit = self.threshold(best, goal)
        maximize = goal is PrimaryMetricGoal.MAXIMIZE
        if (own < limit) if maximize else (own > limit):
            if self._slack_factor is not None:
                rule = f"{best:.6g} {'/' if maximize else '*'} (1 + slack_factor {self._slack_factor})"
            else:
                rule = f"{best:.6g} {'-' if maximize else '+'} slack_amount {self._slack_amount}"
            return (f"Early terminated by BanditPolicy at interval {interval}: this run's best {metric_name} so far, "
                    f"{own:.6g}, is {'below' if maximize else 'above'} {limit:.6g} = {rule}, where {best:.6g} is "
                    f"the best {metric_name} of run {best_run} up to interval {interval}.")
        return None


class MedianStoppingPolicy(_ScheduledPolicy):
    """Cancel runs whose best metric is worse than the median of all runs' running averages."""

    POLICY_NAME = "MedianStopping"

    def __init__(self, evaluation_interval=1, delay_evaluation=0):
        super().__init__(MedianStoppingPolicy.POLICY_NAME, evaluation_interval, delay_evaluation, {})

    @staticmethod
    def _from_dict(dict_policy):
        EarlyTerminationPolicy._validate_dict_policy(dict_policy, MedianStoppingPolicy.POLICY_NAME)
        p = EarlyTerminationPolicy._properties_of(dict_policy)
        return MedianStoppingPolicy(p.get("evaluation_interval", 1), p.get("delay_evaluation", 0))

    def _judge(self, run_id, interval, curves, running, goal, metric_name):
        averages = [statistics.fmean(c[:interval]) for c in curves.values() if c]
        median = statistics.median(averages)
        own = best_of(curves[run_id][:interval], goal)
        maximize = goal is PrimaryMetricGoal.MAXIMIZE
        if (own < median) if maximize else (own > median):
            return (f"Early terminated by MedianStoppingPolicy at interval {interval}: this run's best "
                    f"{metric_name} so far, {own:.6g}, is {'below' if maximize else 'above'} {median:.6g}, the "
                    f"median of the running averages of {len(averages)} runs over intervals 1-{interval}.")
        return None


class TruncationSelectionPolicy(_ScheduledPolicy):
    """Cancel the lowest-performing ``truncation_percentage`` percent of runs at each evaluation."""

    POLICY_NAME = "TruncationSelection"

    def __init__(self, truncation_percentage, evaluation_interval=1, delay_evaluation=0):
        if not isinstance(truncation_percentage, int):
            raise invalid_type("int", "truncation_percentage", truncation_percentage)
        if truncation_percentage < 1 or truncation_percentage > 99:
            raise invalid_setting("truncation_percentage", "value to be between 1 and 99.",
                                  f"Got {truncation_percentage!r}.")
        super().__init__(TruncationSelectionPolicy.POLICY_NAME, evaluation_interval, delay_evaluation,
                         {"truncation_percentage": truncation_percentage, "exclude_finished_jobs": False})
        self._truncation_percentage = truncation_percentage

    @property
    def truncation_percentage(self):
        return self._truncation_percentage

    @staticmethod
    def _from_dict(dict_policy):
        EarlyTerminationPolicy._validate_dict_policy(dict_policy, TruncationSelectionPolicy.POLICY_NAME)
        p = EarlyTerminationPolicy._properties_of(dict_policy)
        return TruncationSelectionPolicy(p.get("truncation_percentage"), p.get("evaluation_interval", 1),
                                         p.get("delay_evaluation", 0))

    def _judge(self, run_id, interval, curves, running, goal, metric_name):
        ranked = [(best_of(c[:interval], goal), other) for other, c in curves.items()
                  if c and (len(c) >= interval or other not in running)]
        count = len(ranked) * self._truncation_percentage // 100
        worst_first = sorted(ranked, key=lambda item: (item[0] if goal is PrimaryMetricGoal.MAXIMIZE
                                                       else -item[0], item[1]))
        lowest = [other for _, other in worst_first[:count]]
        if run_id in lowest:
            own = best_of(curves[run_id][:interval], goal)
            return (f"Early terminated by TruncationSelectionPolicy at interval {interval}: this run's best "
                    f"{metric_name} so far, {own:.6g}, ranks among the lowest {self._truncation_percentage}% "
                    f"({count} of {len(ranked)} runs) at interval {interval}.")
        return None


class NoTerminationPolicy(EarlyTerminationPolicy):
    """No early termination: every run goes on until it ends."""

    POLICY_NAME = "Default"

    def __init__(self):
        super().__init__(NoTerminationPolicy.POLICY_NAME)

    @staticmethod
    def _from_dict(dict_policy):
        EarlyTerminationPolicy._validate_dict_policy(dict_policy, NoTerminationPolicy.POLICY_NAME)
        return NoTerminationPolicy()

    def _evaluation_point(self, reports):
        return None


def _best_run_at(curves, interval, goal):
    best_run, best = None, None
    for run_id in sorted(curves):
        values = curves[run_id][:interval]
        if not values:
            continue
        value = best_of(values, goal)
        if best is None or (value > best if goal is PrimaryMetricGoal.MAXIMIZE else value < best):
            best_run, best = run_id, value
    return best_run, best


def _curve(points):
    """A run's reports in order as floats; the k-th finite value is interval k. Each point may
    be a value or a (step, value) pair: only the order of reports counts, as on Azure."""
    values = []
    for point in points or ():
        value = point[1] if isinstance(point, (tuple, list)) else point
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        values.append(float(value))
    return values


def evaluate(policy, series, goal, running=None, metric_name="primary metric"):
    """Which running children ``policy`` cancels now.

    ``series``: run id -> that child's primary-metric reports so far, in the order logged
    (values or (step, value) pairs), for every child of the sweep, finished ones included.
    ``goal``: PrimaryMetricGoal or "maximize"/"minimize". ``running``: the ids still running
    (default: every id in ``series``). Returns a list of Termination, one per child to cancel,
    in run id order. Pure and non-blocking.
    """
    if policy is None:
        return []
    if not isinstance(policy, EarlyTerminationPolicy):
        raise TypeError(f"policy must be an EarlyTerminationPolicy, got {type(policy).__name__}")
    goal = as_goal(goal)
    curves = {str(run_id): _curve(points) for run_id, points in (series or {}).items()}
    running = set(map(str, curves if running is None else running))
    decisions = []
    for run_id in sorted(running):
        interval = policy._evaluation_point(len(curves.get(run_id, ())))
        if interval is None:
            continue
        reason = policy._judge(run_id, interval, curves, running, goal, metric_name)
        if reason:
            decisions.append(Termination(run_id, interval, reason))
    return decisions
