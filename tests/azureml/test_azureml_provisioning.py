"""``AmlCompute.provisioning_configuration``: every setting reaches the real SDK call, nothing is
dropped, and what the SDK refuses is refused the same way (checked against the real SDK)."""

import inspect

import pytest
from azureml.core.compute import AmlCompute as SdkAmlCompute
from azureml.exceptions import ComputeTargetException as SdkComputeTargetException

from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal_azureml import translate

IDENTITY = ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/trainer")
#: a value other than the default for every setting
EVERY_SETTING = dict(
    vm_size="STANDARD_DS3_V2", vm_priority="lowpriority", min_nodes=1, max_nodes=6,
    idle_seconds_before_scaledown=600, admin_username="azureuser", admin_user_password=None,
    admin_user_ssh_key="ssh-rsa AAAAB3Nza user@host", vnet_resourcegroup_name="net-rg", vnet_name="ml-vnet",
    subnet_name="training", tags={"team": "ml", "cost": "research"}, description="GPU-free training cluster",
    remote_login_port_public_access="Disabled", identity_type="UserAssigned", identity_id=[IDENTITY],
    location="westeurope", enable_node_public_ip=False)


def sdk_fields(config):
    """Every attribute of a real AmlComputeProvisioningConfiguration, scale settings spelled out."""
    fields = dict(vars(config))
    scale = fields.pop("scale_settings")
    fields.update(min_nodes=scale.minimum_node_count, max_nodes=scale.maximum_node_count,
                  idle=scale.idle_seconds_before_scaledown)
    return fields


def test_amlocal_takes_exactly_the_sdks_settings_with_its_defaults():
    ours = inspect.signature(AmlCompute.provisioning_configuration).parameters
    theirs = inspect.signature(SdkAmlCompute.provisioning_configuration).parameters
    assert list(ours) == list(theirs)
    assert {name: p.default for name, p in ours.items()} == {name: p.default for name, p in theirs.items()}
    assert set(EVERY_SETTING) == set(theirs)


def test_every_setting_passes_through_to_the_real_configuration():
    real = translate.to_provisioning_configuration(AmlCompute.provisioning_configuration(**EVERY_SETTING).to_dict())
    direct = SdkAmlCompute.provisioning_configuration(**EVERY_SETTING)
    assert sdk_fields(real) == sdk_fields(direct)
    fields = sdk_fields(real)
    assert (fields["vnet_resourcegroup_name"], fields["vnet_name"], fields["subnet_name"]) == \
        ("net-rg", "ml-vnet", "training")
    assert (fields["identity_type"], fields["identity_id"]) == ("UserAssigned", [IDENTITY])
    assert fields["enable_node_public_ip"] is False
    assert (fields["admin_username"], fields["admin_user_password"], fields["admin_user_ssh_key"]) == \
        ("azureuser", None, "ssh-rsa AAAAB3Nza user@host")
    assert (fields["idle"], fields["vm_priority"], fields["min_nodes"], fields["max_nodes"]) == \
        (600, "lowpriority", 1, 6)
    assert (fields["compute_location"], fields["tags"], fields["description"]) == \
        ("westeurope", {"team": "ml", "cost": "research"}, "GPU-free training cluster")
    assert fields["remote_login_port_public_access"] == "Disabled"


def test_the_request_azure_receives_carries_every_setting(ws, fake):
    ComputeTarget.create(ws, "vnet-cluster", AmlCompute.provisioning_configuration(**EVERY_SETTING))
    body = fake.create_requests["vnet-cluster"]
    expected = SdkAmlCompute._build_create_payload(SdkAmlCompute.provisioning_configuration(**EVERY_SETTING),
                                                   fake.location, fake.subscription_id)
    assert body == expected
    properties = body["properties"]["properties"]
    assert properties["subnet"] == {"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                                          "net-rg/providers/Microsoft.Network/virtualNetworks/ml-vnet/subnets/training"}
    assert properties["enableNodePublicIp"] is False
    assert properties["userAccountCredentials"] == {"adminUserName": "azureuser",
                                                    "adminUserSshPublicKey": "ssh-rsa AAAAB3Nza user@host"}
    assert properties["remoteLoginPortPublicAccess"] == "Disabled"
    assert (properties["vmSize"], properties["vmPriority"]) == ("STANDARD_DS3_V2", "lowpriority")
    assert properties["scaleSettings"] == {"minNodeCount": 1, "maxNodeCount": 6, "nodeIdleTimeBeforeScaleDown": "PT600S"}
    assert body["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}}
    assert body["properties"]["computeLocation"] == "westeurope"
    assert (body["tags"], body["properties"]["description"]) == ({"team": "ml", "cost": "research"},
                                                                 "GPU-free training cluster")
    record = ComputeTarget(ws, "vnet-cluster")
    assert (record.vm_priority, record.min_nodes, record.max_nodes) == ("lowpriority", 1, 6)


REFUSED = [
    dict(admin_user_password="Secret-123"),
    dict(admin_username="azureuser"),
    dict(admin_username="azureuser", admin_user_password="alllowercase"),
    dict(vnet_name="ml-vnet"),
    dict(vnet_name="ml-vnet", vnet_resourcegroup_name="net-rg"),
    dict(identity_type="Managed"),
    dict(identity_type="UserAssigned"),
    dict(identity_type="UserAssigned", identity_id=IDENTITY),
    dict(identity_type="SystemAssigned", identity_id=[IDENTITY]),
    dict(identity_id=[IDENTITY]),
]


@pytest.mark.parametrize("settings", REFUSED)
def test_what_the_sdk_refuses_is_refused_with_its_message(settings):
    with pytest.raises(SdkComputeTargetException) as sdk:
        SdkAmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2, **settings)
    with pytest.raises(ComputeTargetException) as ours:
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2, **settings)
    assert str(ours.value) == sdk.value.message


@pytest.mark.parametrize("settings", [dict(admin_username="azureuser", admin_user_password="Secret-123"),
                                      dict(identity_type="SystemAssigned"),
                                      dict(vnet_name="v", vnet_resourcegroup_name="g", subnet_name="s")])
def test_what_the_sdk_accepts_is_accepted(settings):
    SdkAmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2, **settings)
    assert AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2, **settings)


def test_a_configuration_the_sdk_refuses_at_create_is_not_called_a_provisioning_failure():
    from amlocal_azureml.errors import ComputeProvisioningError, sdk_errors

    refusal = SdkComputeTargetException("Invalid provisioning configuration, max nodes count must be greater than "
                                        "or equal to min nodes count")
    with pytest.raises(ComputeTargetException) as raised:
        with sdk_errors("check the provisioning configuration", compute="c1"):
            raise refusal
    assert not isinstance(raised.value, ComputeProvisioningError)
    assert str(raised.value).startswith("Invalid provisioning configuration, max nodes count")
    assert raised.value.__cause__ is refusal
