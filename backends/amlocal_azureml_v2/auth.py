"""Which azure-identity credential the ``azureml-v2`` backend signs in with, and the timeouts
every call into Azure gets.

Looked for in the ``azureml`` backend's order; the first that is there wins:

1. an ``auth=`` object given to ``Workspace(...)`` / ``Workspace.from_config(...)``: any
   azure-core ``TokenCredential`` (an azure-identity credential; azureml-core's authentication
   objects also have ``get_token``);
2. a service principal in the environment: AZURE_TENANT_ID, AZURE_CLIENT_ID,
   AZURE_CLIENT_SECRET (-> ``ClientSecretCredential``);
3. an Azure CLI login (-> ``AzureCliCredential``): the ``az`` program on PATH, from any
   install (azure-identity runs it; it need not be in this Python environment), and an account
   in its profile;
4. interactive (browser) sign-in, only when asked for: AMLOCAL_AZURE_AUTH=interactive or
   ``"auth": "interactive"`` in config.json (-> ``InteractiveBrowserCredential``).

Interactive sign-in is never chosen on its own: a script or CI job must fail at once instead,
saying what was looked for (``AzureCredentialsError``). Finding credentials reads the
environment and local files only; nothing here touches the network.

Timeouts (``Timeouts``): every HTTP call of azure-identity and azure-ai-ml goes through an
azure-core ``RequestsTransport`` built from the client's keyword arguments, so passing
``connection_timeout``, ``read_timeout`` and ``retry_total`` to the credential and to
``MLClient(...)`` bounds each call; ``AzureCliCredential(process_timeout=...)`` bounds the ``az``
process and ``InteractiveBrowserCredential(timeout=...)`` the wait for the person.
"""

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AzureCredentialsError

SERVICE_PRINCIPAL_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
AUTH_MODE_VARIABLE = "AMLOCAL_AZURE_AUTH"
INTERACTIVE = "interactive"


@dataclass(frozen=True)
class Timeouts:
    """Seconds: connect, read; retries after a failed attempt. A silent network fails a call within
    about (retries + 1) * (connect + read) seconds plus azure-core's backoff (0.8 s doubling)."""
    connect: float = 10.0
    read: float = 60.0
    retries: int = 2
    cli_process: int = 30
    interactive: int = 300

    @classmethod
    def from_config(cls, config):
        """config.json's optional "azure_timeouts": {"connect": s, "read": s, "retries": n}."""
        data = dict((config or {}).get("azure_timeouts") or {})
        known = {"connect", "read", "retries", "cli_process", "interactive"}
        return cls(**{k: v for k, v in data.items() if k in known})

    def transport_kwargs(self):
        """What azure-core's transport and retry policy read (RequestsTransport, RetryPolicy)."""
        return {"connection_timeout": self.connect, "read_timeout": self.read, "retry_total": self.retries}

    def as_tuple(self):
        return (self.connect, self.read, self.retries)


@dataclass
class CredentialChoice:
    """What was found: ``kind`` is given, service_principal, azure_cli or interactive."""
    kind: str
    description: str
    parameters: dict = field(default_factory=dict)
    credential: object = None


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


def find_credentials(config=None, environ=None, explicit=None, az_program=None):
    """The credential to use, as a CredentialChoice (not built yet). Raises AzureCredentialsError
    naming everything that was looked for when none is usable. ``az_program``: the ``az`` path
    (default: looked up on PATH)."""
    environ = os.environ if environ is None else environ
    config = config or {}
    if explicit is not None:
        if not callable(getattr(explicit, "get_token", None)):
            raise AzureCredentialsError(
                f"auth={type(explicit).__name__} cannot sign in to Azure ML SDK v2: it needs a credential with "
                "get_token (an azure-identity credential such as DefaultAzureCredential(), or an azureml-core "
                "authentication object).")
        return CredentialChoice("given", f"the {type(explicit).__name__} passed as auth=", credential=explicit)

    present = [name for name in SERVICE_PRINCIPAL_VARIABLES if environ.get(name)]
    if len(present) == len(SERVICE_PRINCIPAL_VARIABLES):
        return CredentialChoice(
            "service_principal",
            f"service principal {environ['AZURE_CLIENT_ID']} of tenant {environ['AZURE_TENANT_ID']} "
            "(AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)",
            {"tenant_id": environ["AZURE_TENANT_ID"], "client_id": environ["AZURE_CLIENT_ID"],
             "client_secret": environ["AZURE_CLIENT_SECRET"]})
    if present:
        missing = [name for name in SERVICE_PRINCIPAL_VARIABLES if name not in present]
        raise AzureCredentialsError(
            f"A service principal is only partly set in the environment: {', '.join(present)} set, "
            f"{', '.join(missing)} missing. Set all three of {', '.join(SERVICE_PRINCIPAL_VARIABLES)} "
            "(from the app registration of the service principal), or unset them to use an Azure CLI login.")

    profile = cli_profile_path(environ)
    logged_in = cli_logged_in(profile)
    program = az_program if az_program is not None else shutil.which("az", path=environ.get("PATH"))
    if logged_in and program:
        return CredentialChoice("azure_cli", f"the Azure CLI login in {profile} ({program})")

    mode = (environ.get(AUTH_MODE_VARIABLE) or config.get("auth") or "").strip().lower()
    if mode == INTERACTIVE:
        tenant = config.get("tenant_id") or environ.get("AZURE_TENANT_ID")
        return CredentialChoice("interactive", "interactive (browser) sign-in" +
                                (f" to tenant {tenant}" if tenant else ""), {"tenant_id": tenant})
    raise AzureCredentialsError(_no_credentials_message(profile, logged_in, program, mode))


def _no_credentials_message(profile, logged_in, program, mode):
    if logged_in and not program:
        cli_state = f"an account is signed in ({profile}) but no `az` program is on PATH"
    elif program:
        cli_state = f"`az` is at {program} but no account is signed in ({profile} has none)"
    else:
        cli_state = f"no `az` program on PATH and {profile} has no account"
    mode_state = f"{AUTH_MODE_VARIABLE}={mode!r}" if mode else f"{AUTH_MODE_VARIABLE} is not set"
    return (
        "No Azure credentials for the 'azureml-v2' backend. amlocal looked for, in this order:\n"
        f"  1. a service principal: {', '.join(SERVICE_PRINCIPAL_VARIABLES)} in the environment (none set);\n"
        f"  2. an Azure CLI login: {cli_state};\n"
        f"  3. interactive sign-in, used only when {AUTH_MODE_VARIABLE}=interactive ({mode_state}).\n"
        "Provide one of them:\n"
        f"  - export {' '.join(v + '=...' for v in SERVICE_PRINCIPAL_VARIABLES)} (a service principal with "
        "access to the workspace);\n"
        "  - or install the Azure CLI (its own installer or `pipx install azure-cli`: it need not share this "
        "Python environment) and run `az login`;\n"
        f"  - or set {AUTH_MODE_VARIABLE}=interactive to sign in with a browser;\n"
        "  - or pass auth=<an azure-identity credential> to Workspace.from_config().\n"
        "To run locally instead, choose another backend (AMLOCAL_BACKEND=process or docker): amlocal never "
        "falls back to a local backend on its own."
    )


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
