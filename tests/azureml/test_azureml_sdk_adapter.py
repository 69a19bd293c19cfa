"""What of the real-SDK adapter can be checked offline (the rest runs in live mode)."""

import pytest
from azureml.core.compute import AmlCompute

from amlocal_azureml.adapter import AzureAdapter
from amlocal_azureml.sdk_adapter import SdkAzureAdapter, _compute_record
from amlocal_azureml.translate import offline_workspace


def arm_payload(state="Creating", priority="Dedicated"):
    """A cluster as the Resource Provider describes it."""
    return {"name": "cpu-cluster", "location": "eastus", "tags": None,
            "properties": {"computeType": "AmlCompute", "description": None, "resourceId": None,
                           "provisioningState": state, "provisioningErrors": None, "isAttachedCompute": False,
                           "properties": {"vmSize": "Standard_D2_v2", "vmPriority": priority, "subnet": None,
                                          "scaleSettings": {"minNodeCount": 1, "maxNodeCount": 4,
                                                            "nodeIdleTimeBeforeScaleDown": "PT1800S"}}}}


def test_the_sdk_adapter_implements_the_whole_adapter():
    assert issubclass(SdkAzureAdapter, AzureAdapter)
    assert not SdkAzureAdapter.__abstractmethods__
    assert SdkAzureAdapter.poll_interval >= 1


@pytest.mark.parametrize("priority, expected", [("Dedicated", "dedicated"), ("LowPriority", "lowpriority")])
def test_a_real_amlcompute_becomes_the_compute_record(priority, expected):
    target = object.__new__(AmlCompute)
    target._initialize(offline_workspace("sub", "rg", "ws", "eastus"), arm_payload(priority=priority))
    assert _compute_record(target) == {"name": "cpu-cluster", "type": "AmlCompute", "vm_size": "STANDARD_D2_V2",
                                       "vm_priority": expected, "min_nodes": 1, "max_nodes": 4,
                                       "provisioning_state": "Creating"}


def test_constructing_over_a_workspace_object_needs_no_network():
    adapter = SdkAzureAdapter(offline_workspace("sub", "rg", "ws"))
    assert adapter.workspace.name == "ws"
