"""Which Azure credentials a backend signs in with: the order both backends look in, and what
they say when nothing is usable.

Looked for in this order; the first that is there wins:

1. an ``auth=`` object given to ``Workspace(...)`` / ``Workspace.from_config(...)``;
2. a service principal in the environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET;
3. an Azure CLI login (``az login``) the SDK can use (an account in the CLI's profile, and the
   CLI where that SDK looks for it: ``CliLogin``);
4. interactive (browser) sign-in, only when asked for: AMLOCAL_AZURE_AUTH=interactive or
   ``"auth": "interactive"`` in config.json.

Interactive sign-in is never chosen on its own: it would wait for a person, and a script or CI
job must fail at once instead, saying what was looked for (``AzureCredentialsError``). Finding
credentials reads the environment and local files only; nothing here touches the network.
Building the credential object is each backend's own (``auth.build_auth`` of azureml,
``auth.build_credential`` of azureml-v2): only that differs between the SDKs.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AzureCredentialsError

SERVICE_PRINCIPAL_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
AUTH_MODE_VARIABLE = "AMLOCAL_AZURE_AUTH"
INTERACTIVE = "interactive"


@dataclass
class CredentialChoice:
    """What was found: ``kind`` is given, service_principal, azure_cli or interactive;
    ``parameters`` the SDK credential's keyword arguments; ``credential`` the object, once built."""
    kind: str
    description: str
    parameters: dict = field(default_factory=dict)
    credential: object = None


@dataclass(frozen=True)
class CliLogin:
    """How one SDK uses an Azure CLI login, in the words of the chain's messages. ``{cli}``
    stands for what ``probe`` found (e.g. the path of the ``az`` program)."""
    probe: object       # environ -> the usable CLI (truthy), or a falsy value when there is none
    found: str          # "<the CLI is there>", followed by " but no account is signed in"
    missing: str        # "an account is signed in but <the CLI is not there>"
    absent: str         # "<the CLI is not there>", followed by " and <profile> has no account"
    used: str           # the choice's description; {profile} is the CLI's profile file
    how_to_get: str     # one line of the help: how to get a login the SDK can use


@dataclass(frozen=True)
class CredentialChain:
    """The chain of one backend: its name (as the messages say it), the keyword names its SDK's
    service-principal credential takes (tenant, client id, secret), its ``CliLogin`` and what
    its ``auth=`` accepts."""
    backend: str
    service_principal_keywords: tuple
    cli: CliLogin
    given_help: str
    #: what the SDK calls an interactive sign-in ("login": InteractiveLoginAuthentication)
    interactive: str = "sign-in"

    def find(self, config=None, environ=None, given=None, cli=None):
        """The credentials to use, as a CredentialChoice (its ``credential`` not built yet unless
        ``given``). ``cli``: what the CLI probe would find (default: probe ``environ``). Raises
        AzureCredentialsError naming everything that was looked for when none is usable."""
        environ = os.environ if environ is None else environ
        config = config or {}
        if given is not None:
            return CredentialChoice("given", f"the {type(given).__name__} passed as auth=", credential=given)

        present = [name for name in SERVICE_PRINCIPAL_VARIABLES if environ.get(name)]
        if len(present) == len(SERVICE_PRINCIPAL_VARIABLES):
            return CredentialChoice(
                "service_principal",
                f"service principal {environ['AZURE_CLIENT_ID']} of tenant {environ['AZURE_TENANT_ID']} "
                "(AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)",
                dict(zip(self.service_principal_keywords, (environ[name] for name in SERVICE_PRINCIPAL_VARIABLES))))
        if present:
            missing = [name for name in SERVICE_PRINCIPAL_VARIABLES if name not in present]
            raise AzureCredentialsError(
                f"A service principal is only partly set in the environment: {', '.join(present)} set, "
                f"{', '.join(missing)} missing. Set all three of {', '.join(SERVICE_PRINCIPAL_VARIABLES)} "
                "(from the app registration of the service principal), or unset them to use an Azure CLI login.")

        profile = cli_profile_path(environ)
        logged_in = cli_logged_in(profile)
        usable = self.cli.probe(environ) if cli is None else cli
        if logged_in and usable:
            return CredentialChoice("azure_cli", self.cli.used.format(profile=profile, cli=usable))

        mode = (environ.get(AUTH_MODE_VARIABLE) or config.get("auth") or "").strip().lower()
        if mode == INTERACTIVE:
            tenant = config.get("tenant_id") or environ.get("AZURE_TENANT_ID")
            return CredentialChoice("interactive", f"interactive (browser) {self.interactive}" +
                                    (f" to tenant {tenant}" if tenant else ""), {"tenant_id": tenant})
        raise AzureCredentialsError(self._nothing_usable(profile, logged_in, usable, mode))

    def _nothing_usable(self, profile, logged_in, cli, mode):
        if logged_in and not cli:
            cli_state = f"an account is signed in ({profile}) but {self.cli.missing}"
        elif cli:
            cli_state = f"{self.cli.found.format(cli=cli)} but no account is signed in ({profile} has none)"
        else:
            cli_state = f"{self.cli.absent} and {profile} has no account"
        mode_state = f"{AUTH_MODE_VARIABLE}={mode!r}" if mode else f"{AUTH_MODE_VARIABLE} is not set"
        return (
            f"No Azure credentials for the {self.backend!r} backend. amlocal looked for, in this order:\n"
            f"  1. a service principal: {', '.join(SERVICE_PRINCIPAL_VARIABLES)} in the environment (none set);\n"
            f"  2. an Azure CLI login: {cli_state};\n"
            f"  3. interactive {self.interactive}, used only when {AUTH_MODE_VARIABLE}=interactive ({mode_state}).\n"
            "Provide one of them:\n"
            f"  - export {' '.join(v + '=...' for v in SERVICE_PRINCIPAL_VARIABLES)} (a service principal with "
            "access to the workspace);\n"
            f"  - or {self.cli.how_to_get};\n"
            f"  - or set {AUTH_MODE_VARIABLE}=interactive to sign in with a browser;\n"
            f"  - or pass auth=<{self.given_help}> to Workspace.from_config().\n"
            "To run locally instead, choose another backend (AMLOCAL_BACKEND=process or docker): amlocal never "
            "falls back to a local backend on its own."
        )


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
