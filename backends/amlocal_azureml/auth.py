"""Which Azure credentials the azureml backend signs in with.

Looked for in this order; the first that is there wins:

1. an ``auth=`` object given to ``Workspace(...)`` / ``Workspace.from_config(...)``;
2. a service principal in the environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
   (-> ``ServicePrincipalAuthentication``);
3. an Azure CLI login (``az login``) usable from this Python environment, i.e. azure-cli
   installed here and an account in the CLI's profile (-> ``AzureCliAuthentication``, which
   imports ``azure.cli.core``). ``AZURE_CLI_REQUIREMENT`` is the azure-cli that installs next to
   azureml-core without breaking its version caps (a plain ``pip install azure-cli`` upgrades
   knack and four azure-mgmt-* packages past them); the ``az login`` itself may come from any
   install that shares the same ``~/.azure`` (AZURE_CONFIG_DIR);
4. interactive (browser) login, only when asked for: AMLOCAL_AZURE_AUTH=interactive or
   ``"auth": "interactive"`` in config.json (-> ``InteractiveLoginAuthentication``).

Interactive login is never chosen on its own: it would wait for a person, and a script or CI
job must fail at once instead, saying what was looked for (``AzureCredentialsError``).
Finding credentials reads the environment and local files only; nothing here touches the network.
"""

import contextlib
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CREDENTIALS_HELP, AzureCredentialsError, AzureTimeoutError

SERVICE_PRINCIPAL_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
AUTH_MODE_VARIABLE = "AMLOCAL_AZURE_AUTH"
#: The newest azure-cli whose requirements fit azureml-core 1.61's caps (pip's resolver, 2026-11):
#: later ones need knack>=0.13 (azureml-core: <0.13) and newer azure-mgmt-* majors.
AZURE_CLI_REQUIREMENT = "azure-cli==2.75.0"
INTERACTIVE = "interactive"
INTERACTIVE_HELP = ("Interactive login needs a browser on this machine (or the device code it prints) and "
                    "a person to finish it. For scripts and CI use a service principal (AZURE_TENANT_ID, "
                    "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) instead.")


@dataclass
class CredentialChoice:
    """What was found: ``kind`` is given, service_principal, azure_cli or interactive."""
    kind: str
    description: str
    parameters: dict = field(default_factory=dict)
    auth: object = None


def cli_profile_path(environ):
    config_dir = environ.get("AZURE_CONFIG_DIR") or str(Path(environ.get("HOME") or Path.home()) / ".azure")
    return Path(config_dir) / "azureProfile.json"


def cli_logged_in(profile_path):
    """Whether the Azure CLI profile at ``profile_path`` holds at least one signed-in account."""
    try:
        data = json.loads(Path(profile_path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    return bool(isinstance(data, dict) and data.get("subscriptions"))


def azure_cli_installed():
    """AzureCliAuthentication needs the azure-cli package in this same Python environment."""
    try:
        return importlib.util.find_spec("azure.cli.core") is not None
    except (ImportError, ValueError):
        return False


def find_credentials(config=None, environ=None, explicit_auth=None, cli_installed=None):
    """The credentials to use, as a CredentialChoice (its ``auth`` not built yet). Raises
    AzureCredentialsError naming everything that was looked for when none is usable."""
    environ = os.environ if environ is None else environ
    config = config or {}
    if explicit_auth is not None:
        return CredentialChoice("given", f"the {type(explicit_auth).__name__} passed as auth=", auth=explicit_auth)

    present = [name for name in SERVICE_PRINCIPAL_VARIABLES if environ.get(name)]
    if len(present) == len(SERVICE_PRINCIPAL_VARIABLES):
        return CredentialChoice(
            "service_principal",
            f"service principal {environ['AZURE_CLIENT_ID']} of tenant {environ['AZURE_TENANT_ID']} "
            "(AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)",
            {"tenant_id": environ["AZURE_TENANT_ID"], "service_principal_id": environ["AZURE_CLIENT_ID"],
             "service_principal_password": environ["AZURE_CLIENT_SECRET"]})
    if present:
        missing = [name for name in SERVICE_PRINCIPAL_VARIABLES if name not in present]
        raise AzureCredentialsError(
            f"A service principal is only partly set in the environment: {', '.join(present)} set, "
            f"{', '.join(missing)} missing. Set all three of {', '.join(SERVICE_PRINCIPAL_VARIABLES)} "
            "(from the app registration of the service principal), or unset them to use an Azure CLI login.")

    profile = cli_profile_path(environ)
    logged_in = cli_logged_in(profile)
    installed = azure_cli_installed() if cli_installed is None else cli_installed
    if logged_in and installed:
        return CredentialChoice("azure_cli", f"the Azure CLI login in {profile}")

    mode = (environ.get(AUTH_MODE_VARIABLE) or config.get("auth") or "").strip().lower()
    if mode == INTERACTIVE:
        tenant = config.get("tenant_id") or environ.get("AZURE_TENANT_ID")
        return CredentialChoice("interactive", "interactive (browser) login" +
                                (f" to tenant {tenant}" if tenant else ""), {"tenant_id": tenant})

    raise AzureCredentialsError(_no_credentials_message(profile, logged_in, installed, mode))


def _no_credentials_message(profile, logged_in, installed, mode):
    if logged_in and not installed:
        cli_state = (f"an account is signed in ({profile}) but the azure-cli package is not installed in this "
                     "Python environment, which AzureCliAuthentication needs")
    elif installed:
        cli_state = f"azure-cli is installed but no account is signed in ({profile} has none)"
    else:
        cli_state = f"azure-cli is not installed in this Python environment and {profile} has no account"
    mode_state = f"{AUTH_MODE_VARIABLE}={mode!r}" if mode else f"{AUTH_MODE_VARIABLE} is not set"
    return (
        "No Azure credentials for the 'azureml' backend. amlocal looked for, in this order:\n"
        f"  1. a service principal: {', '.join(SERVICE_PRINCIPAL_VARIABLES)} in the environment (none set);\n"
        f"  2. an Azure CLI login: {cli_state};\n"
        f"  3. interactive login, used only when {AUTH_MODE_VARIABLE}=interactive ({mode_state}).\n"
        "Provide one of them:\n"
        f"  - export {' '.join(v + '=...' for v in SERVICE_PRINCIPAL_VARIABLES)} (a service principal with "
        "access to the workspace);\n"
        f"  - or `pip install '{AZURE_CLI_REQUIREMENT}'` in this environment (a newer azure-cli breaks "
        "azureml-core's version caps) and run `az login`;\n"
        f"  - or set {AUTH_MODE_VARIABLE}=interactive to sign in with a browser;\n"
        "  - or pass auth=<an azureml.core.authentication object> to Workspace.from_config().\n"
        "To run locally instead, choose another backend (AMLOCAL_BACKEND=process or docker): amlocal never "
        "falls back to a local backend on its own."
    )


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
    if choice.auth is not None:
        return choice.auth
    from azureml.core.authentication import (AzureCliAuthentication, InteractiveLoginAuthentication,
                                             ServicePrincipalAuthentication)

    if choice.kind == "service_principal":
        choice.auth = ServicePrincipalAuthentication(cloud=cloud, **choice.parameters)
    elif choice.kind == "azure_cli":
        choice.auth = AzureCliAuthentication(cloud=cloud)
    elif choice.kind == "interactive":
        choice.auth = InteractiveLoginAuthentication(tenant_id=choice.parameters.get("tenant_id"), cloud=cloud)
    else:
        raise AzureCredentialsError(f"Unknown kind of credentials {choice.kind!r}.")
    return choice.auth
