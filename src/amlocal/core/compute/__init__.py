"""Compute targets (``azureml.core.compute``): a named cluster with a VM size and a node count.

Locally a node is a slot: ``max_nodes`` runs of a target run at once, the rest wait Queued, and
``vm_size`` sets each run's CPU and memory limits.
"""

from ...exceptions import ComputeTargetException, InvalidArgumentError
from ...rules.provisioning import provisioning_problem


class ComputeTarget:
    """Looking one up: ``ComputeTarget(workspace, name)`` returns the AmlCompute of that name or
    raises ComputeTargetException."""

    def __new__(cls, workspace, name):
        return AmlCompute._from_record(workspace, workspace.stores.compute_targets.get(name))

    @classmethod
    def _from_record(cls, workspace, record):
        return object.__new__(AmlCompute)._load(workspace, record)

    def __init__(self, workspace, name):
        pass

    def _load(self, workspace, description):
        self.workspace = workspace
        self.name = description["name"]
        self.type = description.get("type", "AmlCompute")
        self.vm_size = description.get("vm_size")
        self.vm_priority = description.get("vm_priority", "dedicated")
        self.min_nodes = description.get("min_nodes", 0)
        self.max_nodes = description.get("max_nodes")
        self.provisioning_state = description.get("provisioning_state", "Succeeded")
        return self

    @staticmethod
    def create(workspace, name, provisioning_configuration):
        if not isinstance(provisioning_configuration, AmlComputeProvisioningConfiguration):
            raise InvalidArgumentError("ComputeTarget.create needs the result of "
                                       "AmlCompute.provisioning_configuration(vm_size=..., max_nodes=...).")
        record = workspace.stores.compute_targets.create(name, provisioning_configuration.to_dict())
        return AmlCompute._from_record(workspace, record)

    @staticmethod
    def list(workspace):
        return list(workspace.compute_targets.values())

    def wait_for_completion(self, show_output=False, is_delete_operation=False):
        self._load(self.workspace, self.workspace.stores.compute_targets.wait(self.name, show_output=show_output))

    def get_status(self):
        return self.provisioning_state

    def serialize(self):
        return {"name": self.name, "type": self.type, "vm_size": self.vm_size, "max_nodes": self.max_nodes,
                "min_nodes": self.min_nodes, "provisioning_state": self.provisioning_state}

    def __repr__(self):
        return f"AmlCompute(name={self.name!r}, vm_size={self.vm_size!r}, max_nodes={self.max_nodes})"


class AmlComputeProvisioningConfiguration:
    def __init__(self, **fields):
        self.__dict__.update(fields)

    def to_dict(self):
        return dict(self.__dict__)


class AmlCompute(ComputeTarget):
    _compute_type = "AmlCompute"

    @staticmethod
    def provisioning_configuration(vm_size='', vm_priority='dedicated', min_nodes=0, max_nodes=None,
                                   idle_seconds_before_scaledown=1800, admin_username=None,
                                   admin_user_password=None, admin_user_ssh_key=None,
                                   vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None, tags=None,
                                   description=None, remote_login_port_public_access='NotSpecified',
                                   identity_type=None, identity_id=None, location=None,
                                   enable_node_public_ip=True):
        if max_nodes is None:
            raise ComputeTargetException("Invalid configuration, max nodes count is mandatory: "
                                         "pass max_nodes=N (N >= 1).")
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
            raise ComputeTargetException(f"Invalid configuration, max_nodes must be an integer >= 1, got {max_nodes!r}.")
        if not isinstance(min_nodes, int) or min_nodes < 0 or min_nodes > max_nodes:
            raise ComputeTargetException(f"Invalid configuration, min_nodes must be between 0 and max_nodes "
                                         f"({max_nodes}), got {min_nodes!r}.")
        if not isinstance(vm_size, str):
            raise ComputeTargetException(f"Invalid configuration, vm_size must be a string such as "
                                         f"'STANDARD_D2_V2', got {vm_size!r}.")
        problem = provisioning_problem(admin_username, admin_user_password, admin_user_ssh_key,
                                       vnet_resourcegroup_name, vnet_name, subnet_name, identity_type, identity_id)
        if problem:  # azureml refuses these when the configuration is built, before Azure is asked
            raise ComputeTargetException(problem)
        return AmlComputeProvisioningConfiguration(
            vm_size=vm_size or "STANDARD_D2_V2", vm_priority=vm_priority, min_nodes=min_nodes, max_nodes=max_nodes,
            idle_seconds_before_scaledown=idle_seconds_before_scaledown, admin_username=admin_username,
            admin_user_password=admin_user_password, admin_user_ssh_key=admin_user_ssh_key,
            vnet_resourcegroup_name=vnet_resourcegroup_name, vnet_name=vnet_name, subnet_name=subnet_name, tags=tags,
            description=description, remote_login_port_public_access=remote_login_port_public_access,
            identity_type=identity_type, identity_id=identity_id, location=location,
            enable_node_public_ip=enable_node_public_ip)

    def wait_for_completion(self, show_output=False, min_node_count=None, timeout_in_minutes=25,
                            is_delete_operation=False):
        self._load(self.workspace, self.workspace.stores.compute_targets.wait(
            self.name, show_output=show_output, timeout_in_minutes=timeout_in_minutes))

