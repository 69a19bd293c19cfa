"""``ComputeTargetException``, as in ``azureml.core.compute_target``."""

from ..exceptions import AmlocalError


class ComputeTargetException(AmlocalError):
    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message)
        self.message = exception_message
