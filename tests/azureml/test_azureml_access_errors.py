"""Errors that used to mislead: a datastore transfer refused for authorisation says so (not "check
the network"), Azure File datastores are refused clearly, and a failed sign-in is amlocal's error."""

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azureml.data.azure_storage_datastore import AzureBlobDatastore, AzureFileDatastore

from amlocal.core import Datastore, Workspace
from amlocal.exceptions import BackendUnavailableError, InvalidArgumentError
from amlocal.specs import WorkspaceInfo
from amlocal_azureml import datastore_access
from amlocal_azureml.errors import (AzureCredentialsError, AzureServiceError, DatastoreAuthError,
                                    DatastoreNotSupportedError, sdk_errors)
from amlocal_azureml.sdk_adapter import SdkAzureAdapter
from amlocal_azureml.stores import AzureDatastores
from amlocal_azureml.translate import offline_workspace


@pytest.fixture
def data(project):
    return str(project / "data" / "iris")


def test_the_refusal_of_a_keyless_datastore_is_the_sdks_own():
    keyless = AzureBlobDatastore(offline_workspace("s", "r", "w"), "identityblob", "container", "account")
    assert keyless.credential_type == "None"
    with pytest.raises(Exception) as sdk:
        keyless._ensure_credential("Upload")  # what azureml's Datastore.upload runs first
    assert datastore_access.refusal(keyless, "Upload").message == sdk.value.message
    with_key = AzureBlobDatastore(offline_workspace("s", "r", "w"), "keyed", "container", "account", account_key="k")
    assert datastore_access.refusal(with_key, "Upload") is None and datastore_access.paths_checkable(with_key)
    assert not datastore_access.paths_checkable(keyless)


def test_uploading_to_an_identity_based_datastore_says_why(ws, fake, data):
    fake.add_datastore("identityblob", credential_type="None")
    with pytest.raises(DatastoreAuthError) as raised:
        Datastore.get(ws, "identityblob").upload(src_dir=data, target_path="iris", show_progress=False)
    message = str(raised.value)
    assert "does not have an access key (account key) or SAS token" in message
    assert "identity-based access" in message and "account_key=" in message
    assert "network" not in message.lower()
    assert fake.list_datastore_files("workspaceblobstore") == []


def test_a_sas_datastore_uploads(ws, fake, data):
    fake.add_datastore("sasblob", credential_type="Sas")
    Datastore.get(ws, "sasblob").upload(src_dir=data, target_path="iris", show_progress=False)
    assert fake.list_datastore_files("sasblob") == ["iris/iris.csv"]


def test_storage_refusing_the_key_is_an_authorisation_error(ws, fake, data):
    fake.deny_datastore_access("workspaceblobstore")
    with pytest.raises(DatastoreAuthError) as raised:
        ws.get_default_datastore().upload(src_dir=data, target_path="iris", show_progress=False)
    message = str(raised.value)
    assert "HTTP 403" in message and "AuthorizationPermissionMismatch" in message
    assert "not a network one" in message


def test_workspacefilestore_is_refused_clearly(ws, data, tmp_path):
    filestore = Datastore.get(ws, "workspacefilestore")
    for transfer in (lambda: filestore.upload(src_dir=data, target_path="iris", show_progress=False),
                     lambda: filestore.download(str(tmp_path / "dl"), show_progress=False)):
        with pytest.raises(DatastoreNotSupportedError) as raised:
            transfer()
        assert isinstance(raised.value, InvalidArgumentError)
        assert "AzureFile" in str(raised.value) and "'workspaceblobstore'" in str(raised.value)


def test_the_sdk_adapter_refuses_before_any_request(monkeypatch, tmp_path):
    """The real adapter never sends a keyless or file-share transfer (the network guard would fail the test)."""
    workspace = offline_workspace("s", "r", "w")
    adapter = SdkAzureAdapter(workspace)
    stores = AzureDatastores(adapter)
    datastores = {"identityblob": AzureBlobDatastore(workspace, "identityblob", "container", "account"),
                  "workspacefilestore": AzureFileDatastore(workspace, "workspacefilestore", "share", "account",
                                                           account_key="k")}
    monkeypatch.setattr(adapter, "get_datastore", datastores.__getitem__)
    source = tmp_path / "a.txt"
    source.write_text("a")
    with pytest.raises(DatastoreAuthError):
        stores.upload("identityblob", [(source, "a.txt")], show_progress=False)
    with pytest.raises(DatastoreAuthError):
        stores.download("identityblob", tmp_path / "dl", show_progress=False)
    with pytest.raises(DatastoreNotSupportedError):
        stores.list("workspacefilestore")
    assert stores.exists("identityblob", "anything") and stores.exists("workspacefilestore", "anything")


def test_http_errors_and_network_errors_are_told_apart():
    denied = HttpResponseError(message="Server failed to authenticate the request.\nErrorCode:AuthenticationFailed")
    denied.status_code = 403
    with pytest.raises(DatastoreAuthError, match="HTTP 403"):
        with sdk_errors("upload to datastore 'workspaceblobstore'"):
            raise denied
    conflict = HttpResponseError(message="The specified blob already exists.")
    conflict.status_code = 409
    with pytest.raises(AzureServiceError, match="HTTP 409") as raised:
        with sdk_errors("upload to datastore 'workspaceblobstore'"):
            raise conflict
    assert "network" not in str(raised.value)
    with pytest.raises(AzureServiceError, match="Check the network connection"):
        with sdk_errors("upload to datastore 'workspaceblobstore'"):
            raise ServiceRequestError("Failed to establish a new connection: [Errno 111] Connection refused")


class FailingInteractiveLogin:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("could not locate runnable browser")


def test_a_failed_interactive_sign_in_is_an_amlocal_error(monkeypatch, project):
    import azureml.core.authentication

    monkeypatch.setattr(azureml.core.authentication, "InteractiveLoginAuthentication", FailingInteractiveLogin)
    monkeypatch.setenv("AMLOCAL_AZURE_AUTH", "interactive")
    info = WorkspaceInfo(name="ws", subscription_id="sub", resource_group="rg", config={"tenant_id": "t-1"})
    with pytest.raises(AzureCredentialsError) as raised:
        SdkAzureAdapter.for_workspace(info)
    message = str(raised.value)
    assert "interactive (browser) login to tenant t-1 failed: RuntimeError: could not locate runnable browser" in message
    assert "service principal" in message
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_the_user_sees_it_on_first_use_of_the_workspace(monkeypatch, project):
    import azureml.core.authentication
    from azureml.exceptions import AuthenticationException

    class RejectedLogin:
        def __init__(self, *args, **kwargs):
            raise AuthenticationException("AADSTS50126: Error validating credentials due to invalid username or "
                                          "password.")

    monkeypatch.setattr(azureml.core.authentication, "InteractiveLoginAuthentication", RejectedLogin)
    monkeypatch.setenv("AMLOCAL_AZURE_AUTH", "interactive")
    ws = Workspace.from_config(backend="azureml")
    with pytest.raises(BackendUnavailableError) as raised:
        ws.backend
    assert isinstance(raised.value, AzureCredentialsError)
    assert "AADSTS50126" in str(raised.value)
