"""Which Azure credentials the azureml backend signs in with, as azureml-core authentication objects.

The order and the messages are ``amlocal_azure.credentials``'s (shared with azureml-v2); what
SDK v1 adds:

* a service principal becomes ``ServicePrincipalAuthentication``;
* an Azure CLI login is usable only with the azure-cli package installed in this same Python
  environment (``AzureCliAuthentication`` imports it), and becomes ``AzureCliAuthentication``;
* interactive sign-in becomes ``InteractiveLoginAuthentication``;
* ``auth=`` takes any azureml.core.authentication object.
"""

import importlib.util

from amlocal_azure.credentials import CliLogin, CredentialChain, CredentialChoice

from .errors import AzureCredentialsError

__all__ = ["CHAIN", "CredentialChoice", "build_auth", "find_credentials"]


def azure_cli_installed():
    """AzureCliAuthentication needs the azure-cli package in this same Python environment."""
    try:
        return importlib.util.find_spec("azure.cli.core") is not None
    except (ImportError, ValueError):
        return False


CHAIN = CredentialChain(
    backend="azureml",
    service_principal_keywords=("tenant_id", "service_principal_id", "service_principal_password"),
    cli=CliLogin(
        probe=lambda environ: azure_cli_installed(),
        found="azure-cli is installed",
        missing=("the azure-cli package is not installed in this Python environment, which "
                 "AzureCliAuthentication needs"),
        absent="azure-cli is not installed in this Python environment",
        used="the Azure CLI login in {profile}",
        how_to_get="`pip install azure-cli` in this environment and run `az login`"),
    given_help="an azureml.core.authentication object")


def find_credentials(config=None, environ=None, explicit_auth=None, cli_installed=None):
    """The credentials to use, as a CredentialChoice (its object not built yet). Raises
    AzureCredentialsError naming everything that was looked for when none is usable."""
    return CHAIN.find(config, environ, explicit_auth, cli_installed)


def build_auth(choice, cloud="AzureCloud"):
    """The azureml authentication object for ``choice`` (constructing it needs no network)."""
    if choice.credential is not None:
        return choice.credential
    from azureml.core.authentication import (AzureCliAuthentication, InteractiveLoginAuthentication,
                                             ServicePrincipalAuthentication)

    if choice.kind == "service_principal":
        choice.credential = ServicePrincipalAuthentication(cloud=cloud, **choice.parameters)
    elif choice.kind == "azure_cli":
        choice.credential = AzureCliAuthentication(cloud=cloud)
    elif choice.kind == "interactive":
        choice.credential = InteractiveLoginAuthentication(tenant_id=choice.parameters.get("tenant_id"), cloud=cloud)
    else:
        raise AzureCredentialsError(f"Unknown kind of credentials {choice.kind!r}.")
    return choice.credential
