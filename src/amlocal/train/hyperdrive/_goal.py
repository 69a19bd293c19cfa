"""PrimaryMetricGoal (``azureml.train.hyperdrive.PrimaryMetricGoal``) and the one rule for
"is this metric value better than that one"."""

import enum

from ._errors import invalid_setting


class PrimaryMetricGoal(enum.Enum):
    """Whether a higher (MAXIMIZE) or a lower (MINIMIZE) primary metric is better."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @staticmethod
    def from_str(goal):
        """The goal named ``goal`` ("maximize" or "minimize", any case)."""
        if isinstance(goal, str):
            if goal.lower() == PrimaryMetricGoal.MAXIMIZE.name.lower():
                return PrimaryMetricGoal.MAXIMIZE
            if goal.lower() == PrimaryMetricGoal.MINIMIZE.name.lower():
                return PrimaryMetricGoal.MINIMIZE
        raise invalid_setting("The primary metric goal", "either 'maximize' or 'minimize'.",
                              f"Got {goal!r}; use PrimaryMetricGoal.MAXIMIZE or PrimaryMetricGoal.MINIMIZE.")


def as_goal(goal):
    """A PrimaryMetricGoal from the enum itself or its name."""
    return goal if isinstance(goal, PrimaryMetricGoal) else PrimaryMetricGoal.from_str(goal)


def is_better(a, b, goal):
    """True when metric value ``a`` is strictly better than ``b`` for ``goal``."""
    return a > b if goal is PrimaryMetricGoal.MAXIMIZE else a < b


def best_of(values, goal):
    return max(values) if goal is PrimaryMetricGoal.MAXIMIZE else min(values)
