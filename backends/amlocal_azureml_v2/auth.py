"""Which azure-identity credential the ``azureml-v2`` backend signs in with, and the timeouts
every call into Azure gets.

The order and the messages are ``amlocal_azure.credentials``'s (shared with the azureml
backend); what SDK v2 adds:

* ``auth=`` takes any azure-core ``TokenCredential`` (an azure-identity credential; azureml-core's
  authentication objects also have ``get_token``), and refuses an object without ``get_token``;
* a service principal becomes ``ClientSecretCredential``;
* an Azure CLI login needs the ``az`` program on PATH, from any install (azure-identity runs it;
  it need not be in this Python environment), and becomes ``AzureCliCredential``;
* interactive sign-in becomes ``InteractiveBrowserCredential``.

Timeouts (``Timeouts``, where the values come from: ``amlocal_azure.timeouts``, shared with the
azureml backend): every HTTP call of azure-identity and azure-ai-ml goes through an azure-core
``RequestsTransport`` built from the client's keyword arguments, so passing
``connection_timeout``, ``read_timeout`` and ``retry_total`` to the credential and to
``MLClient(...)`` bounds each call; ``AzureCliCredential(process_timeout=...)`` bounds the ``az``
process and ``InteractiveBrowserCredential(timeout=...)`` the wait for the person.
"""

import shutil

from amlocal_azure.credentials import CliLogin, CredentialChain, CredentialChoice
from amlocal_azure.timeouts import Timeouts

from .errors import AzureCredentialsError

__all__ = ["CHAIN", "CredentialChoice", "Timeouts", "build_credential", "find_credentials"]


CHAIN = CredentialChain(
    backend="azureml-v2",
    service_principal_keywords=("tenant_id", "client_id", "client_secret"),
    cli=CliLogin(
        probe=lambda environ: shutil.which("az", path=environ.get("PATH")),
        found="`az` is at {cli}",
        missing="no `az` program is on PATH",
        absent="no `az` program on PATH",
        used="the Azure CLI login in {profile} ({cli})",
        how_to_get=("install the Azure CLI (its own installer or `pipx install azure-cli`: it need not share this "
                    "Python environment) and run `az login`")),
    given_help="an azure-identity credential")


def find_credentials(config=None, environ=None, explicit=None, az_program=None):
    """The credential to use, as a CredentialChoice (not built yet). Raises AzureCredentialsError
    naming everything that was looked for when none is usable. ``az_program``: the ``az`` path
    (default: looked up on PATH)."""
    if explicit is not None and not callable(getattr(explicit, "get_token", None)):
        raise AzureCredentialsError(
            f"auth={type(explicit).__name__} cannot sign in to Azure ML SDK v2: it needs a credential with "
            "get_token (an azure-identity credential such as DefaultAzureCredential(), or an azureml-core "
            "authentication object).")
    return CHAIN.find(config, environ, explicit, az_program)


_AUTHORITIES = {"azurechinacloud": "AZURE_CHINA", "azureusgovernment": "AZURE_GOVERNMENT"}


def build_credential(choice, timeouts=Timeouts(), cloud=None):
    """The azure-identity credential of ``choice`` (constructing it needs no network)."""
    if choice.credential is not None:
        return choice.credential
    import azure.identity as identity

    options = timeouts.transport_kwargs()
    authority = _AUTHORITIES.get(str(cloud or "").lower())
    if authority:
        options["authority"] = getattr(identity.AzureAuthorityHosts, authority)
    if choice.kind == "service_principal":
        choice.credential = identity.ClientSecretCredential(**choice.parameters, **options)
    elif choice.kind == "azure_cli":
        choice.credential = identity.AzureCliCredential(process_timeout=timeouts.cli_process)
    elif choice.kind == "interactive":
        tenant = choice.parameters.get("tenant_id")
        choice.credential = identity.InteractiveBrowserCredential(
            timeout=timeouts.interactive, **({"tenant_id": tenant} if tenant else {}), **options)
    else:
        raise AzureCredentialsError(f"Unknown kind of credentials {choice.kind!r}.")
    return choice.credential
