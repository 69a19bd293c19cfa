"""What ``AmlCompute.provisioning_configuration`` refuses, with azureml's messages.

azureml checks a configuration when it is built (``AmlComputeProvisioningConfiguration.
validate_configuration`` and ``AmlCompute._validate_identity``), before anything reaches Azure,
so a bad admin account, a partial virtual network or a wrong identity fails at the same line
locally and on Azure.
"""

import string

#: azureml's admin password policy: 3 of these 4 kinds of character.
PASSWORD_SPECIALS = frozenset("`~!@#$%^&*()=+_[]{}|;:./'\",<>?")


def _is_valid_password(password):
    if password is None:
        return False
    characters = set(password)
    kinds = (set(string.ascii_lowercase), set(string.ascii_uppercase), set(string.digits), PASSWORD_SPECIALS)
    return sum(1 for kind in kinds if characters & kind) >= 3


def identity_problem(identity_type, identity_id):
    """Why (identity_type, identity_id) is refused, or None (azureml's ``_validate_identity``)."""
    if identity_type not in ("UserAssigned", "SystemAssigned"):
        return "Invalid configuration, identity_type must be set to 'UserAssigned' or 'SystemAssigned'."
    if identity_type == "UserAssigned" and (type(identity_id) is not list or not identity_id):
        return ("Invalid configuration, please pass the identity_id of the user assigned identity as a list "
                "(eg. ['resource_ID1','resourceID2',...])")
    if identity_type != "UserAssigned" and identity_id:
        return "Invalid configuration, identity_id cannot be set when identity type is not user assigned."
    return None


def provisioning_problem(admin_username=None, admin_user_password=None, admin_user_ssh_key=None,
                         vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None, identity_type=None,
                         identity_id=None, **_other_settings):
    """Why these provisioning settings are refused (azureml's message), or None."""
    if any([admin_username, admin_user_password, admin_user_ssh_key]) and not admin_username:
        return ("Invalid user credentials, admin username must be provided along with either a password or SSH "
                "key information.")
    if admin_username:
        if not admin_user_password and not admin_user_ssh_key:
            return ("Invalid user credentials, no password or key information provided. Please provide either a "
                    "password or SSH key information.")
        if admin_user_password and not _is_valid_password(admin_user_password):
            return ("Invalid admin user password provided. The admin user password must have 3 of the following: "
                    "1 lowercase character, 1 uppercase character, 1 number, and 1 special character "
                    "`~!@#$%^&*()=+_[]{}|;:./'\",<>?")
    vnet = [vnet_name, vnet_resourcegroup_name, subnet_name]
    if any(vnet) and not all(vnet):
        return ("Invalid configuration, not all virtual net information provided. To use a custom virtual net, "
                "please provide vnet name, vnet resource group and subnet name")
    if identity_type:
        return identity_problem(identity_type, identity_id)
    if identity_id:
        return "Invalid configuration, identity_id cannot be set when identity type is not user assigned."
    return None
