"""The AmlCompute clusters of ``FakeAzureAdapter``'s workspace, answering as Azure does.

A created cluster is "Creating" until it is next looked at, then "Succeeded" (or "Failed" when
``fail_provisioning`` planted a failure). Creation is refused, with the Resource Provider's
error shape, for a reserved or invalid name, a VM size the region does not offer, a change of
VM size, or clusters that would together pass the vCPU quota.
"""

import json
import re
import threading

from amlocal.rules.vm_sizes import VM_SIZES

RESERVED_NAMES = ("amlcompute", "local", "containerinstance")
NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,23}$")
DEFAULT_FAILURE = "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."


def bad_response(status, code, message):
    """The SDK's ComputeTargetException text for an error answer of the Resource Provider."""
    from azureml.exceptions import ComputeTargetException

    content = json.dumps({"error": {"code": code, "statusCode": status, "message": message}}).encode()
    return ComputeTargetException(f"Received bad response from Resource Provider:\nResponse Code: {status}\n"
                                  f"Headers: {{'Content-Type': 'application/json'}}\nContent: {content!r}")


class FakeClusters:
    def __init__(self, location="eastus", vm_sizes=None, core_quota=None,
                 subscription_id="00000000-0000-0000-0000-000000000000"):
        self.location = location
        self.subscription_id = subscription_id
        #: VM size -> (vCPUs, memory GiB) offered in the region
        self.vm_sizes = {size.upper(): spec for size, spec in (vm_sizes or VM_SIZES).items()}
        #: dedicated vCPUs all clusters together may reach (None: no limit)
        self.core_quota = core_quota
        self.clusters = {}
        #: cluster name -> the real AmlComputeProvisioningConfiguration last received
        self.provisioning_configurations = {}
        #: cluster name -> the body of the create request the SDK builds from that configuration
        #: (``AmlCompute._build_create_payload``): what Azure's Resource Provider receives
        self.create_requests = {}
        self._failures = {}
        self._lock = threading.RLock()

    def add(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        """An existing, provisioned cluster."""
        with self._lock:
            self.clusters[name] = {"name": name, "type": "AmlCompute", "vm_size": vm_size.upper(),
                                   "vm_priority": vm_priority, "min_nodes": min_nodes, "max_nodes": max_nodes,
                                   "provisioning_state": "Succeeded", "errors": None}

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        with self._lock:
            self._failures[name] = message

    def cluster(self, name):
        """The cluster's state (settling a pending provisioning); ComputeTargetException when none."""
        from azureml.exceptions import ComputeTargetException

        with self._lock:
            cluster = self.clusters.get(name)
            if cluster is None:
                raise ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name {name} not found in "
                                             "provided workspace")
            if cluster["provisioning_state"] == "Creating":
                failure = self._failures.pop(name, None)
                cluster["provisioning_state"] = "Failed" if failure else "Succeeded"
                cluster["errors"] = failure
            return cluster

    @staticmethod
    def record(cluster):
        return {k: v for k, v in cluster.items() if k != "errors"}

    def get(self, name):
        return self.record(self.cluster(name))

    def create(self, name, config):
        from azureml.exceptions import UserErrorException

        if name in RESERVED_NAMES:
            raise UserErrorException(f"Please specify a different target name. {name} is a reserved name.")
        if not isinstance(name, str) or not NAME.match(name):
            raise bad_response(400, "BadArgument", f"Compute name {name} is invalid: it must be 2 to 24 letters, "
                                                   "digits or hyphens and start with a letter.")
        size = (config.vm_size or "").upper()
        if size not in self.vm_sizes:
            raise bad_response(400, "BadArgument",
                               f"The specified VM size {config.vm_size} is not supported in region {self.location}. "
                               "Please choose a different VM size.")
        max_nodes = config.scale_settings.maximum_node_count
        with self._lock:
            existing = self.clusters.get(name)
            if existing and existing["vm_size"] != size:
                raise bad_response(400, "BadArgument", f"Updating the VM size of compute {name} from "
                                                       f"{existing['vm_size']} to {size} is not supported.")
            self._check_quota(name, size, max_nodes)
            self.provisioning_configurations[name] = config
            self.create_requests[name] = self._create_request(config)
            self.clusters[name] = {"name": name, "type": "AmlCompute", "vm_size": size,
                                   "vm_priority": config.vm_priority,
                                   "min_nodes": config.scale_settings.minimum_node_count, "max_nodes": max_nodes,
                                   "provisioning_state": "Creating", "errors": None}
            return self.record(self.clusters[name])

    def _create_request(self, config):
        from azureml.core.compute import AmlCompute

        return AmlCompute._build_create_payload(config, self.location, self.subscription_id)

    def _check_quota(self, name, size, max_nodes):
        if self.core_quota is None:
            return
        used = sum(self.vm_sizes[c["vm_size"]][0] * c["max_nodes"] for n, c in self.clusters.items()
                   if n != name and c["vm_size"] in self.vm_sizes)
        requested = self.vm_sizes[size][0] * max_nodes
        if used + requested > self.core_quota:
            raise bad_response(400, "QuotaExceeded",
                               "Operation results in exceeding quota limits of Total Cluster Dedicated Regional "
                               f"vCPUs. Maximum allowed: {self.core_quota}, Current in use: {used}, Additional "
                               f"requested: {requested}.")

    def wait(self, name, show_output=False):
        """Provisioning's end, printed as the SDK prints it; ComputeTargetException when it failed."""
        from azureml.exceptions import ComputeTargetException

        with self._lock:
            was = self.clusters.get(name, {}).get("provisioning_state")
            cluster = self.cluster(name)
            state = cluster["provisioning_state"]
        if show_output:
            print(f"{was}\n{state}" if was and was != state else state)
            print("AmlCompute wait for completion finished\n")
            if state == "Succeeded":
                print("Minimum number of nodes requested have been provisioned")
        if state == "Failed":
            raise ComputeTargetException(
                "Compute object provisioning polling reached non-successful terminal state, current provisioning "
                f"state: Failed\nProvisioning operation error:\nStatusCode: 400\nMessage: {cluster['errors']}")
        return self.record(cluster)
