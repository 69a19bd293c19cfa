"""The compute targets of a workspace (``ComputeTarget``, ``AmlCompute``)."""

import abc


class ComputeTargets(abc.ABC):
    """Named clusters. A compute record is a dict: name, type, vm_size, vm_priority, min_nodes,
    max_nodes, idle_seconds_before_scaledown, provisioning_state."""

    @abc.abstractmethod
    def get(self, name):
        """The record of ``name``. Raises ComputeTargetException ("ComputeTargetNotFound: ...")
        when the workspace has none of that name."""

    @abc.abstractmethod
    def create(self, name, configuration):
        """Create or update ``name`` from ``configuration`` (the keyword arguments of
        ``AmlCompute.provisioning_configuration`` as a dict); returns its record at once.
        Raises ComputeTargetException for a bad name or VM size."""

    @abc.abstractmethod
    def wait(self, name, show_output=False, timeout_in_minutes=25):
        """Block until provisioning of ``name`` ends; returns its record. Raises
        ComputeTargetException when provisioning failed."""

    @abc.abstractmethod
    def list(self):
        """Records of every compute target, by name."""
