"""How the Azure ML SDK v1's errors become amlocal's. The error tree and its messages are
``amlocal_azure.errors``, shared with the azureml-v2 backend; SDK v1 adds two of its own:

    amlocal.exceptions.BackendError
    └── DatastoreAuthError               Azure Storage refused a datastore transfer: no key or
                                         SAS token on the datastore, or no permission
    amlocal.exceptions.InvalidArgumentError
    └── DatastoreNotSupportedError       a datastore amlocal cannot transfer through (Azure Files)

The adapters (``sdk_adapter`` and ``fake``) raise the SDK's own exception types. ``to_amlocal``
picks their amlocal counterparts (the Azure errors, or amlocal's general ModelNotFoundError,
ModelPathNotFoundException, RunNotFoundError, InvalidArgumentError), most specific first, and
``sdk_errors`` raises them in place, so user code never has to catch an azureml exception.
"""

import json
import re

from amlocal.exceptions import (BackendError, ComputeTargetException, ConfigError, InvalidArgumentError,
                                ModelNotFoundError, ModelPathNotFoundException)
from amlocal_azure import errors as azure_errors
from amlocal_azure.errors import *  # noqa: F401,F403 - the error tree, named where this backend's users look for it
from amlocal_azure.errors import AzureServiceError, AzureTimeoutError


class DatastoreAuthError(BackendError):
    pass


class DatastoreNotSupportedError(InvalidArgumentError):
    pass


#: SDK v1's call that lists the VM sizes a region offers (named in the VM size error).
SIZES_LISTED_BY = "AmlCompute.supported_vmsizes(ws)"


def _rp_error(text):
    """(code, message) of an Azure Resource Provider error embedded in an SDK message, or (None, None).

    The SDK shows those as "Received bad response from Resource Provider: ... Content: b'<json>'"."""
    code = re.search(r'"code"\s*:\s*"([^"]+)"', text)
    text = text.replace("\\'", "'")  # a bytes repr escapes quotes
    message = re.search(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
    decoded = None
    if message:
        try:
            decoded = json.loads(f'"{message.group(1)}"')
        except ValueError:
            decoded = message.group(1)
    return (code.group(1) if code else None), decoded


def to_amlocal(err, action, run_id=None, compute=None, vm_size=None, model=None, workspace=None, datastore=None,
               environment=None):
    """The amlocal error for ``err`` raised by an adapter while trying to ``action``; None when
    ``err`` is not an Azure error (a programming error keeps its own type). The context names what
    the call was about (SDK v1's errors say which run or cluster only in their text, when at all)."""
    from azureml._restclient.exceptions import ServiceException
    from azureml.exceptions import (AuthenticationException, AzureMLException, ModelNotFoundException,
                                    ProjectSystemException, SnapshotException, UserErrorException,
                                    WebserviceException, WorkspaceException)
    from azureml.exceptions import ComputeTargetException as SdkComputeTargetException
    from azureml.exceptions import ModelPathNotFoundException as SdkModelPathNotFoundException

    text = azure_errors.message_of(err)
    lowered = text.lower()
    if _is_timeout(err):
        return _timeout_error(err, action)
    if "does not have an access key (account key) or sas token" in lowered:
        return DatastoreAuthError(
            f"Cannot {action}: {text.strip()}\nThe datastore uses identity-based access (no account key or SAS "
            "token is registered with it), and azureml transfers files only with a key or a SAS token. Use a "
            "datastore registered with one (the workspace's default 'workspaceblobstore' has a key), or "
            "re-register it with Datastore.register_azure_blob_container(..., account_key=... or sas_token=...); "
            "or copy the files with your own identity (az storage blob upload-batch --auth-mode login ...) and "
            "point the job at them with ds.path(...).")
    if "datastoretypenotsupported" in lowered:
        return DatastoreNotSupportedError(f"Cannot {action}: {text.split(': ', 1)[-1]}")
    if _storage_refused(err):
        return DatastoreAuthError(
            f"Azure Storage refused to {action} (HTTP {err.status_code}): {text.strip()}\nThe datastore's key "
            "or SAS token is wrong, expired or lacks this permission (a SAS needs read, write and list), or "
            "the storage account's firewall does not let this machine in. This is an authorisation problem, "
            "not a network one.")
    if isinstance(err, AuthenticationException):
        return azure_errors.credentials_refused(action, text)
    if isinstance(err, (ProjectSystemException, WorkspaceException)) and "not found" in lowered:
        return azure_errors.workspace_not_found(workspace, text)
    if isinstance(err, SdkComputeTargetException):
        return _compute_error(text, action, compute, vm_size)
    if isinstance(err, SdkModelPathNotFoundException):
        return ModelPathNotFoundException(text)
    if isinstance(err, ModelNotFoundException) or (
            isinstance(err, WebserviceException) and "modelnotfound" in lowered.replace(" ", "")):
        return ModelNotFoundError(text if text.startswith("ModelNotFound") else f"ModelNotFound: {text}")
    if isinstance(err, WebserviceException) and "already exists" in lowered:
        return InvalidArgumentError(text)
    if isinstance(err, ServiceException) and getattr(err, "status_code", None) == 404 and run_id:
        return azure_errors.run_not_found(run_id, text)
    if isinstance(err, SnapshotException):
        return InvalidArgumentError(
            f"Azure ML cannot snapshot the source directory: {text.strip('= ')}\nPut only the code the job needs in "
            "source_directory: keep data in a datastore and virtual environments, outputs and caches elsewhere.")
    if isinstance(err, UserErrorException):
        return azure_errors.refused(action, text)
    if isinstance(err, (AzureMLException, ServiceException)):
        return azure_errors.service_failed(action, text)
    if _is_transport_error(err):
        return azure_errors.unreachable(action, err, text)
    if _is_http_response_error(err):
        return AzureServiceError(f"Azure refused to {action} (HTTP {getattr(err, 'status_code', '?')}): {text}")
    return None


def _compute_error(text, action, compute, vm_size):
    if text.startswith("Invalid "):  # refused by the SDK's own checks of a configuration, before Azure
        return ComputeTargetException(f"{text} (compute {compute!r}).")
    if "computetargetnotfound" in text.lower():
        return azure_errors.compute_not_found(compute)
    code, rp_message = _rp_error(text)
    return azure_errors.compute_error(rp_message or text, code, action, compute, vm_size, SIZES_LISTED_BY)


def _class(module, name):
    try:
        return getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError):
        return None


def _is_instance(err, *classes):
    return any(cls is not None and isinstance(err, cls) for cls in classes)


def _is_transport_error(err):
    """The request never got an answer: no connection, a reset, a proxy error (not an HTTP error)."""
    return _is_instance(err, _class("requests.exceptions", "ConnectionError"), _class("requests.exceptions", "Timeout"),
                        _class("azure.core.exceptions", "ServiceRequestError"),
                        _class("azure.core.exceptions", "ServiceResponseError"), ConnectionError)


def _is_http_response_error(err):
    return _is_instance(err, _class("azure.core.exceptions", "HttpResponseError"),
                        _class("requests.exceptions", "HTTPError"))


def _storage_refused(err):
    """Azure Storage answered 401 or 403 (azure-core's HttpResponseError, as azureml's vendored
    storage client raises it)."""
    return _is_http_response_error(err) and getattr(err, "status_code", None) in (401, 403)


_TIMEOUT_WORDS = ("timed out", "timeouterror", "readtimeout", "connecttimeout", "timeout=")


def _chain(err):
    """``err`` and what it wraps: its cause and context, and azureml's ``inner_exception``."""
    seen = []
    while isinstance(err, BaseException) and err not in seen and len(seen) < 20:
        seen.append(err)
        inner = getattr(err, "inner_exception", None)
        err = err.__cause__ or (inner if isinstance(inner, BaseException) else None) or err.__context__
    return seen


def _is_timeout(err):
    import socket

    for link in _chain(err):
        if _is_instance(link, socket.timeout, TimeoutError, _class("requests.exceptions", "Timeout"),
                        _class("urllib3.exceptions", "TimeoutError"),
                        _class("azure.core.exceptions", "ServiceRequestTimeoutError"),
                        _class("azure.core.exceptions", "ServiceResponseTimeoutError")):
            return True
        if _is_transport_error(link) and any(word in str(link).lower() for word in _TIMEOUT_WORDS):
            return True
    return False


def _timeout_error(err, action):
    import os

    from . import timeouts

    try:
        connect, read = timeouts.limits()
    except ConfigError:  # a variable broken since the request was sent: quote the configured limits
        connect, read = timeouts.limits(environ={})
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    return AzureTimeoutError(
        f"Azure did not answer while trying to {action}: every attempt timed out (connect timeout {connect:g} s, "
        f"read timeout {read:g} s; the SDK retries a few times). {type(err).__name__}: {azure_errors.message_of(err)}\n"
        f"Check the network connection and the proxy ({'HTTPS_PROXY=' + proxy if proxy else 'no HTTPS_PROXY set'}). "
        f"On a slow network raise {timeouts.READ_TIMEOUT_VARIABLE} (or {timeouts.CONNECT_TIMEOUT_VARIABLE}), or "
        f"\"read\" (\"connect\") in config.json's \"azure_timeouts\".")


#: ``with sdk_errors(action, **context):`` around SDK v1 calls (see ``to_amlocal``).
sdk_errors = azure_errors.sdk_errors(to_amlocal)
