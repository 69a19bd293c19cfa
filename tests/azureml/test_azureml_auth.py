"""Which credentials the azureml backend signs in with; all offline."""

import json

import pytest
from azureml.core.authentication import AzureCliAuthentication, ServicePrincipalAuthentication

from amlocal_azureml.auth import build_auth, find_credentials
from amlocal_azureml.errors import AzureCredentialsError

SP = {"AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_CLIENT_SECRET": "s3cret"}


def cli_profile(directory, subscriptions=({"id": "sub", "isDefault": True},)):
    directory.mkdir(parents=True, exist_ok=True)
    # The CLI writes its profile with a byte-order mark.
    (directory / "azureProfile.json").write_text(json.dumps({"subscriptions": list(subscriptions)}),
                                                 encoding="utf-8-sig")
    return {"AZURE_CONFIG_DIR": str(directory)}


def test_service_principal_from_the_environment():
    choice = find_credentials({}, dict(SP), cli_installed=False)
    assert choice.kind == "service_principal"
    assert "client-1" in choice.description and "tenant-1" in choice.description
    assert "s3cret" not in choice.description
    auth = build_auth(choice)
    assert isinstance(auth, ServicePrincipalAuthentication)
    assert (auth._tenant_id, auth._service_principal_id, auth._service_principal_password) == \
        ("tenant-1", "client-1", "s3cret")
    assert auth._cloud_type.name == "AzureCloud"


def test_a_partial_service_principal_names_what_is_missing(tmp_path):
    env = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", **cli_profile(tmp_path / "cli")}
    with pytest.raises(AzureCredentialsError) as raised:
        find_credentials({}, env, cli_installed=True)
    assert "AZURE_TENANT_ID, AZURE_CLIENT_ID set, AZURE_CLIENT_SECRET missing" in str(raised.value)


def test_service_principal_wins_over_a_cli_login(tmp_path):
    env = {**SP, **cli_profile(tmp_path / "cli")}
    assert find_credentials({}, env, cli_installed=True).kind == "service_principal"


def test_azure_cli_login(tmp_path):
    env = cli_profile(tmp_path / "cli")
    choice = find_credentials({}, env, cli_installed=True)
    assert choice.kind == "azure_cli"
    assert str(tmp_path / "cli" / "azureProfile.json") in choice.description


def test_cli_login_without_azure_cli_in_this_environment_says_so(tmp_path):
    env = cli_profile(tmp_path / "cli")
    with pytest.raises(AzureCredentialsError) as raised:
        find_credentials({}, env, cli_installed=False)
    assert "an account is signed in" in str(raised.value)
    assert "azure-cli package is not installed in this Python environment" in str(raised.value)


def test_cli_installed_but_signed_out(tmp_path):
    env = cli_profile(tmp_path / "cli", subscriptions=())
    with pytest.raises(AzureCredentialsError, match="azure-cli is installed but no account is signed in"):
        find_credentials({}, env, cli_installed=True)


def test_interactive_only_when_asked(tmp_path):
    env = {"AZURE_CONFIG_DIR": str(tmp_path / "none")}
    with pytest.raises(AzureCredentialsError):
        find_credentials({}, env, cli_installed=False)
    choice = find_credentials({}, dict(env, AMLOCAL_AZURE_AUTH="interactive"), cli_installed=False)
    assert (choice.kind, choice.parameters) == ("interactive", {"tenant_id": None})
    choice = find_credentials({"auth": "interactive", "tenant_id": "t-9"}, env, cli_installed=False)
    assert (choice.kind, choice.parameters) == ("interactive", {"tenant_id": "t-9"})


def test_an_auth_object_given_to_the_workspace_is_used_as_is():
    given = ServicePrincipalAuthentication("t", "c", "s")
    choice = find_credentials({}, {}, explicit_auth=given)
    assert choice.kind == "given" and build_auth(choice) is given
