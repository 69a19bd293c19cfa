"""A silent network (a proxy on loopback that accepts connections and never answers) fails every
call into Azure within a bounded time, with an error that says so; the network guard stays on."""

import json
import socket
import threading
import time

import pytest
import requests

from amlocal.core import Workspace
from amlocal.exceptions import ConfigError
from amlocal.specs import WorkspaceInfo
from amlocal_azureml import timeouts
from amlocal_azureml.errors import AzureServiceError, AzureTimeoutError
from amlocal_azureml.sdk_adapter import SdkAzureAdapter
from amlocal_azureml.stores import AzureComputeTargets
from amlocal_azureml.translate import offline_workspace

LIMIT = 1.0  # seconds, for connect and read


def with_azure_timeouts(project, azure_timeouts):
    config = json.loads((project / "config.json").read_text())
    (project / "config.json").write_text(json.dumps(dict(config, azure_timeouts=azure_timeouts)))


@pytest.fixture(autouse=True)
def configured_limits_restored(monkeypatch):
    """The hook's config.json limits are the process's: put back what a test configures."""
    monkeypatch.setattr(timeouts, "_configured", timeouts._configured)


@pytest.fixture
def silent_proxy(monkeypatch):
    """HTTP(S)_PROXY pointing at a loopback server that accepts and never says a word."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = "http://127.0.0.1:%d" % server.getsockname()[1]
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(timeouts.CONNECT_TIMEOUT_VARIABLE, str(LIMIT))
    monkeypatch.setenv(timeouts.READ_TIMEOUT_VARIABLE, str(LIMIT))
    yield accepted
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    server.close()


def bound():
    """What the timeouts promise: about 4 attempts of at most connect + read, plus the SDK's back-off."""
    return 4 * 2 * LIMIT + 15


def raised_within(seconds, call):
    """The exception ``call()`` raises, failing the test if it has not ended within ``seconds``
    (the call goes on in a daemon thread; closing the proxy ends it)."""
    outcome = []

    def run():
        try:
            call()
            outcome.append(None)
        except BaseException as err:  # noqa: B902 - handed back to the test
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    if not outcome:
        pytest.fail(f"still waiting for Azure after {seconds:.0f} s: a request without a timeout")
    assert outcome[0] is not None, "the call succeeded through a silent network"
    return outcome[0], time.monotonic() - started


def test_signing_in_through_a_silent_network_fails_in_bounded_time(silent_proxy, monkeypatch, project):
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "secret")
    ws = Workspace.from_config(backend="azureml")
    error, elapsed = raised_within(bound(), lambda: ws.backend)
    assert isinstance(error, AzureTimeoutError), repr(error)
    assert silent_proxy, "the request went through the proxy on loopback"
    message = str(error)
    assert "Azure did not answer" in message and "read timeout 1 s" in message
    assert "HTTPS_PROXY=http://127.0.0.1:" in message and timeouts.READ_TIMEOUT_VARIABLE in message


def test_config_json_limits_hold_the_requests_and_the_error_quotes_them(silent_proxy, monkeypatch, project):
    """Without the variables, the workspace's config.json "azure_timeouts" is what the hook applies."""
    monkeypatch.delenv(timeouts.CONNECT_TIMEOUT_VARIABLE)
    monkeypatch.delenv(timeouts.READ_TIMEOUT_VARIABLE)
    with_azure_timeouts(project, {"connect": 1.5, "read": 1.5})
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "secret")
    ws = Workspace.from_config(backend="azureml")
    error, elapsed = raised_within(4 * 2 * 1.5 + 15, lambda: ws.backend)
    assert isinstance(error, AzureTimeoutError), repr(error)
    assert "connect timeout 1.5 s, read timeout 1.5 s" in str(error)
    assert '"azure_timeouts"' in str(error)


def test_the_variables_override_config_json_at_each_request_and_the_error_quotes_what_held(monkeypatch):
    from amlocal_azureml.errors import to_amlocal

    monkeypatch.delenv(timeouts.CONNECT_TIMEOUT_VARIABLE, raising=False)
    monkeypatch.delenv(timeouts.READ_TIMEOUT_VARIABLE, raising=False)
    timeouts.install(timeouts.Timeouts.from_config({"azure_timeouts": {"connect": 2, "read": 3}}))
    assert timeouts.limits() == (2, 3)
    monkeypatch.setenv(timeouts.READ_TIMEOUT_VARIABLE, "5")
    assert timeouts.limits() == (2, 5.0)
    timed_out = requests.exceptions.ReadTimeout("Read timed out. (read timeout=5)")
    assert "connect timeout 2 s, read timeout 5 s" in str(to_amlocal(timed_out, "get compute"))
    monkeypatch.delenv(timeouts.READ_TIMEOUT_VARIABLE)
    assert timeouts.limits() == (2, 3)
    assert "connect timeout 2 s, read timeout 3 s" in str(to_amlocal(timed_out, "get compute"))


@pytest.mark.parametrize("azure_timeouts", [{"read": 0}, {"read": "60"}, {"retries": -1}, {"reed": 60}, "60"])
def test_a_hostile_azure_timeouts_fails_before_any_request(azure_timeouts):
    info = WorkspaceInfo(name="ws", subscription_id="s", resource_group="r",
                         config={"azure_timeouts": azure_timeouts})
    with pytest.raises(ConfigError, match='config.json "azure_timeouts"'):
        SdkAzureAdapter.for_workspace(info)


def test_a_hostile_azure_timeouts_fails_with_the_fake_adapter_too(project):
    from amlocal_azureml.fake import mock_azureml

    with_azure_timeouts(project, {"connect": -1})
    with mock_azureml():
        ws = Workspace.from_config(backend="azureml")
        with pytest.raises(ConfigError, match=r'"azure_timeouts": \{"connect": -1\} is not a number of seconds'):
            ws.run_history


def test_a_signed_in_call_through_a_silent_network_fails_in_bounded_time(silent_proxy):
    from azureml.core.authentication import AbstractAuthentication

    class StaticToken(AbstractAuthentication):
        """Already signed in: the calls go straight to Azure ML."""

        def __init__(self):
            super().__init__(cloud="AzureCloud")

        def _get_arm_token(self):
            return "token"

        _get_graph_token = _get_azureml_client_token = _get_arm_token

        def get_authentication_header(self):
            return {"Authorization": "Bearer token"}

    from azureml.core import Workspace as SdkWorkspace

    workspace = SdkWorkspace("sub", "rg", "ws", auth=StaticToken(), _location="eastus", _disable_service_check=True)
    computes = AzureComputeTargets(SdkAzureAdapter(workspace))
    error, _ = raised_within(bound(), lambda: computes.get("cpu-cluster"))
    assert isinstance(error, AzureTimeoutError) and isinstance(error, AzureServiceError), repr(error)
    assert "while trying to get compute" in str(error)


def test_the_limits_apply_to_every_request_and_shorten_long_ones(monkeypatch):
    monkeypatch.setenv(timeouts.CONNECT_TIMEOUT_VARIABLE, "3")
    monkeypatch.setenv(timeouts.READ_TIMEOUT_VARIABLE, "20")
    assert timeouts.limits() == (3.0, 20.0)
    assert timeouts.bounded(None, 3.0, 20.0) == (3.0, 20.0)
    assert timeouts.bounded(100, 3.0, 20.0) == (3.0, 20.0)
    assert timeouts.bounded((1, 5), 3.0, 20.0) == (1, 5)
    assert timeouts.bounded((None, 300), 3.0, 20.0) == (3.0, 20.0)
    monkeypatch.delenv(timeouts.CONNECT_TIMEOUT_VARIABLE)
    monkeypatch.delenv(timeouts.READ_TIMEOUT_VARIABLE)
    assert timeouts.limits() == (timeouts.DEFAULT_CONNECT_TIMEOUT, timeouts.DEFAULT_READ_TIMEOUT) == (10.0, 60.0)


def test_installed_once_it_holds_requests_without_a_timeout(silent_proxy):
    timeouts.install()
    timeouts.install()
    assert requests.adapters.HTTPAdapter.send.__wrapped__.__module__ == "requests.adapters"
    error, elapsed = raised_within(4 * LIMIT + 5, lambda: requests.get("https://management.azure.com/subscriptions",
                                                                          timeout=None))
    assert isinstance(error, requests.exceptions.RequestException), repr(error)


def test_only_requests_to_azure_are_held():
    for url in ("https://login.microsoftonline.com/t/oauth2/v2.0/token", "https://management.azure.com/x",
                "https://eastus.api.azureml.ms/history/v1.0/x", "https://acct.blob.core.windows.net/c/b",
                "https://management.usgovcloudapi.net/", "https://login.chinacloudapi.cn/"):
        assert timeouts.is_azure_url(url), url
    for url in ("http+docker://localhost/v1.43/containers/x/wait", "https://pypi.org/simple/",
                "https://evilazure.com/", "http://127.0.0.1:8080/"):
        assert not timeouts.is_azure_url(url), url


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_limit_is_a_config_error_before_any_request(value, monkeypatch):
    monkeypatch.setenv(timeouts.READ_TIMEOUT_VARIABLE, value)
    with pytest.raises(ConfigError, match=f"{timeouts.READ_TIMEOUT_VARIABLE}='{value}'"):
        SdkAzureAdapter.for_workspace(WorkspaceInfo(name="ws", subscription_id="s", resource_group="r"))


def test_an_offline_workspace_object_needs_no_request():
    SdkAzureAdapter(offline_workspace("s", "r", "w"))
