"""Credentials in the azureml backend's order, and the bound every call into Azure gets: checked on
the real azure-identity and azure-ai-ml clients (their transports), and on a silent server."""

import json
import socket
import threading
import time

import pytest
from azure.core.credentials import AccessToken

from amlocal_azureml_v2 import auth
from amlocal_azureml_v2.errors import AzureCredentialsError, AzureUnreachableError, sdk_errors

SP = {"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_SECRET": "secret"}


class StaticCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("token", int(time.time()) + 3600)


def logged_in_profile(tmp_path):
    (tmp_path / "azureProfile.json").write_text(json.dumps({"subscriptions": [{"id": "s"}]}))
    return {"AZURE_CONFIG_DIR": str(tmp_path)}


def test_an_explicit_credential_wins():
    credential = StaticCredential()
    choice = auth.find_credentials({}, SP, explicit=credential)
    assert choice.kind == "given" and auth.build_credential(choice) is credential
    with pytest.raises(AzureCredentialsError, match="needs a credential with get_token"):
        auth.find_credentials({}, {}, explicit=object())


def test_service_principal_then_cli_then_interactive_only_when_asked(tmp_path):
    assert auth.find_credentials({}, dict(SP, **logged_in_profile(tmp_path)), az_program="/usr/bin/az").kind == \
        "service_principal"
    assert auth.find_credentials({}, logged_in_profile(tmp_path), az_program="/usr/bin/az").kind == "azure_cli"
    with pytest.raises(AzureCredentialsError) as raised:
        auth.find_credentials({}, logged_in_profile(tmp_path), az_program="")
    assert "signed in" in str(raised.value) and "but no `az` program is on PATH" in str(raised.value)
    assert auth.find_credentials({"auth": "interactive"}, {}, az_program="").kind == "interactive"
    with pytest.raises(AzureCredentialsError, match="AZURE_CLIENT_SECRET missing"):
        auth.find_credentials({}, {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"})


def test_no_credentials_lists_what_was_looked_for(tmp_path):
    with pytest.raises(AzureCredentialsError) as raised:
        auth.find_credentials({}, {"AZURE_CONFIG_DIR": str(tmp_path)}, az_program="")
    text = str(raised.value)
    for expected in ("1. a service principal", "2. an Azure CLI login", "3. interactive sign-in",
                     "AMLOCAL_AZURE_AUTH=interactive", "az login", "AMLOCAL_BACKEND=process"):
        assert expected in text


def test_credentials_and_the_ml_client_carry_the_timeouts():
    from azure.ai.ml import MLClient

    timeouts = auth.Timeouts(connect=3, read=7, retries=1)
    credential = auth.build_credential(auth.CredentialChoice("service_principal", "sp", {
        "tenant_id": "00000000-0000-0000-0000-000000000001", "client_id": "c", "client_secret": "s"}), timeouts)
    transport = credential._client._pipeline._transport
    assert (transport.connection_config.timeout, transport.connection_config.read_timeout) == (3, 7)
    cli = auth.build_credential(auth.CredentialChoice("azure_cli", "cli"), timeouts)
    assert cli._process_timeout == timeouts.cli_process

    client = MLClient(StaticCredential(), subscription_id="00000000-0000-0000-0000-000000000000",
                      resource_group_name="rg", workspace_name="ws", enable_telemetry=False,
                      **timeouts.transport_kwargs())
    pipelines = [client.jobs._operation_2023_02_preview._client._pipeline,
                 client.compute._operation._client._pipeline, client.models._model_versions_operation._client._pipeline]
    for pipeline in pipelines:
        config = pipeline._transport.connection_config
        assert (config.timeout, config.read_timeout) == (3, 7)
        retry = next(p for p in pipeline._impl_policies if type(p).__name__ == "RetryPolicy")
        assert retry.total_retries == 1


def test_timeouts_from_config_json():
    assert auth.Timeouts.from_config({"azure_timeouts": {"connect": 1, "read": 2, "retries": 0}}) == \
        auth.Timeouts(connect=1, read=2, retries=0)


def test_the_workspace_gets_the_variables_over_config_json_and_refuses_a_bad_value(monkeypatch):
    """Opening an SDK v2 workspace takes its limits from the one shared rule: a hostile
    "azure_timeouts" stops it before anything signs in or is sent."""
    from amlocal.exceptions import ConfigError
    from amlocal.specs import WorkspaceInfo
    from amlocal_azureml_v2.sdk_adapter import SdkV2Adapter

    info = WorkspaceInfo(name="ws", subscription_id="s", resource_group="r",
                         config={"azure_timeouts": {"read": "60"}})
    with pytest.raises(ConfigError, match=r'"azure_timeouts": \{"read": \'60\'\} is not a number of seconds'):
        SdkV2Adapter.for_workspace(info, auth=StaticCredential())
    monkeypatch.setenv("AMLOCAL_AZURE_RETRIES", "many")
    with pytest.raises(ConfigError, match="AMLOCAL_AZURE_RETRIES='many'"):
        SdkV2Adapter.for_workspace(WorkspaceInfo(name="ws", subscription_id="s", resource_group="r"),
                                   auth=StaticCredential())


@pytest.fixture
def silent_server():
    """A loopback server that accepts connections and never answers (a stuck proxy)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for sock in held + [server]:
        sock.close()


def test_a_silent_network_fails_within_the_bound_as_an_amlocal_error(silent_server):
    """azure-core's transport, built as every amlocal client builds it, against a server that never
    answers: an amlocal error after about (retries + 1) * read timeout, never a hang."""
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest

    timeouts = auth.Timeouts(connect=1, read=1, retries=1)
    client = PipelineClient(base_url=f"http://127.0.0.1:{silent_server}", **timeouts.transport_kwargs())
    started = time.monotonic()
    with pytest.raises(AzureUnreachableError) as raised:
        with sdk_errors("get the job", timeouts=timeouts.as_tuple()):
            client.send_request(HttpRequest("GET", "/jobs/x"))
    elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed
    assert "connect timeout 1 s, read timeout 1 s, 1 retry" in str(raised.value)
    assert "proxy" in str(raised.value)


def test_a_workspace_without_credentials_fails_at_first_use_saying_what_to_do(project):
    from amlocal.core import Workspace

    ws = Workspace.from_config(backend="azureml-v2")  # choosing the backend signs in to nothing yet
    with pytest.raises(AzureCredentialsError, match="(?s)No Azure credentials.*az login"):
        ws.run_history
    with pytest.raises(AzureCredentialsError, match="auth=object cannot sign in"):
        Workspace.from_config(backend="azureml-v2", auth=object()).model_registry


def test_a_hostile_azure_timeouts_fails_with_the_fake_adapter_too(project):
    """The same rule whichever adapter is underneath: the fake refuses what Azure would never get."""
    from amlocal.core import Workspace
    from amlocal.exceptions import ConfigError
    from amlocal_azureml_v2.fake import mock_azureml_v2

    config = json.loads((project / "config.json").read_text())
    (project / "config.json").write_text(json.dumps(dict(config, azure_timeouts={"retries": 2, "timeout": 30})))
    with mock_azureml_v2():
        ws = Workspace.from_config(backend="azureml-v2")
        with pytest.raises(ConfigError, match="unknown key 'timeout' \\(value 30\\)"):
            ws.run_history
