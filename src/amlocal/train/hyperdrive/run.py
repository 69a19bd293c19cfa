"""``azureml.train.hyperdrive.run``: PrimaryMetricGoal here; HyperDriveRun, the parent run of a
sweep, is provided with the sweep controller."""

from ._goal import PrimaryMetricGoal

__all__ = ["PrimaryMetricGoal"]
