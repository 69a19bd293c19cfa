"""The AmlCompute clusters of ``FakeAzureAdapter``'s workspace (``amlocal_azure.fake_assets``),
answering as SDK v1 does: ComputeTargetException with the Resource Provider's error text, the
client's own refusal of a reserved name, and what ``wait_for_completion`` prints. Each create
request's body, as the SDK builds it from the configuration, is kept (``create_requests``)."""

import json

from amlocal_azure.fake_assets import FakeClusters

#: Names SDK v1 refuses before asking the service (azureml.core.compute.ComputeTarget.create).
RESERVED_NAMES = ("amlcompute", "local", "containerinstance")


def bad_response(status, code, message):
    """The SDK's ComputeTargetException text for an error answer of the Resource Provider."""
    from azureml.exceptions import ComputeTargetException

    content = json.dumps({"error": {"code": code, "statusCode": status, "message": message}}).encode()
    return ComputeTargetException(f"Received bad response from Resource Provider:\nResponse Code: {status}\n"
                                  f"Headers: {{'Content-Type': 'application/json'}}\nContent: {content!r}")


class FakeV1Clusters(FakeClusters):
    record_type = "AmlCompute"

    def __init__(self, location="eastus", vm_sizes=None, core_quota=None,
                 subscription_id="00000000-0000-0000-0000-000000000000"):
        super().__init__(location, vm_sizes, core_quota)
        self.subscription_id = subscription_id
        #: cluster name -> the body of the create request the SDK builds from that configuration
        #: (``AmlCompute._build_create_payload``): what Azure's Resource Provider receives
        self.create_requests = {}

    def _not_found(self, name):
        from azureml.exceptions import ComputeTargetException

        return ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name {name} not found in "
                                      "provided workspace")

    def _bad_request(self, code, message):
        return bad_response(400, code, message)

    def _provisioning_failed(self, name, message):
        from azureml.exceptions import ComputeTargetException

        return ComputeTargetException(
            "Compute object provisioning polling reached non-successful terminal state, current provisioning "
            f"state: Failed\nProvisioning operation error:\nStatusCode: 400\nMessage: {message}")

    def _show_end(self, state):
        print("AmlCompute wait for completion finished\n")
        if state == "Succeeded":
            print("Minimum number of nodes requested have been provisioned")

    def create_from(self, name, config):
        """``ComputeTarget.create(ws, name, config)`` with a real AmlComputeProvisioningConfiguration."""
        from azureml.exceptions import UserErrorException

        if name in RESERVED_NAMES:
            raise UserErrorException(f"Please specify a different target name. {name} is a reserved name.")
        from azureml.core.compute import AmlCompute

        scale = config.scale_settings
        record = self.create(name, config.vm_size, scale.minimum_node_count, scale.maximum_node_count,
                             config.vm_priority, config)
        with self._lock:
            self.create_requests[name] = AmlCompute._build_create_payload(config, self.location, self.subscription_id)
        return record
