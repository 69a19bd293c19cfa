"""``ComputeTargetException``, as in ``azureml.core.compute_target``."""

from ..exceptions import ComputeTargetException

__all__ = ["ComputeTargetException"]
