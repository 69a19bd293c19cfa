"""Which Azure credentials the azureml backend signs in with, as azureml-core authentication objects.

The order and the messages are ``amlocal_azure.credentials``'s (shared with azureml-v2); what
SDK v1 adds:

* a service principal becomes ``ServicePrincipalAuthentication``;
* an Azure CLI login is usable only with the azure-cli package installed in this same Python
  environment (``AzureCliAuthentication`` imports ``azure.cli.core``), and becomes
  ``AzureCliAuthentication``. ``AZURE_CLI_REQUIREMENT`` is the azure-cli that installs next to
  azureml-core without breaking its version caps (a plain ``pip install azure-cli`` upgrades
  knack and four azure-mgmt-* packages past them); the ``az login`` itself may come from any
  install that shares the same ``~/.azure`` (AZURE_CONFIG_DIR);
* interactive login becomes ``InteractiveLoginAuthentication``, which signs in while it is built
  (``sign_in_errors``);
* ``auth=`` takes any azureml.core.authentication object.
"""

import contextlib
import importlib.util

from amlocal_azure.credentials import INTERACTIVE, CliLogin, CredentialChain, CredentialChoice
from amlocal_azure.errors import CREDENTIALS_HELP

from .errors import AzureCredentialsError, AzureTimeoutError

__all__ = ["AZURE_CLI_REQUIREMENT", "CHAIN", "CredentialChoice", "build_auth", "find_credentials", "sign_in_errors"]

#: The newest azure-cli whose requirements fit azureml-core 1.61's caps (pip's resolver, 2026-11):
#: later ones need knack>=0.13 (azureml-core: <0.13) and newer azure-mgmt-* majors.
AZURE_CLI_REQUIREMENT = "azure-cli==2.75.0"
INTERACTIVE_HELP = ("Interactive login needs a browser on this machine (or the device code it prints) and "
                    "a person to finish it. For scripts and CI use a service principal (AZURE_TENANT_ID, "
                    "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) instead.")


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
        how_to_get=(f"`pip install '{AZURE_CLI_REQUIREMENT}'` in this environment (a newer azure-cli breaks "
                    "azureml-core's version caps) and run `az login`")),
    given_help="an azureml.core.authentication object",
    interactive="login")


def find_credentials(config=None, environ=None, explicit_auth=None, cli_installed=None):
    """The credentials to use, as a CredentialChoice (its object not built yet). Raises
    AzureCredentialsError naming everything that was looked for when none is usable."""
    return CHAIN.find(config, environ, explicit_auth, cli_installed)


@contextlib.contextmanager
def sign_in_errors(choice):
    """Signing in (interactive login happens while its auth object is built) fails as amlocal's
    error: a timeout as AzureTimeoutError, anything else as AzureCredentialsError saying what was
    tried."""
    from amlocal.exceptions import AmlocalError

    from .errors import to_amlocal

    try:
        yield
    except AmlocalError:
        raise
    except Exception as err:
        mapped = to_amlocal(err, f"sign in with {choice.description}")
        if mapped is None or not isinstance(mapped, (AzureCredentialsError, AzureTimeoutError)):
            mapped = AzureCredentialsError(
                f"Signing in with {choice.description} failed: {type(err).__name__}: {err}\n"
                + (INTERACTIVE_HELP if choice.kind == INTERACTIVE else CREDENTIALS_HELP))
        raise mapped from err


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
