"""Errors of the azureml backend, and how the Azure ML SDK's errors become amlocal's.

    amlocal.exceptions.BackendUnavailableError
    └── AzureCredentialsError            no usable credentials, or Azure rejected them
    amlocal.exceptions.ConfigError
    └── AzureWorkspaceNotFoundError      config.json names a workspace Azure does not know
    amlocal.core.compute_target.ComputeTargetException
    ├── VmSizeUnavailableError           the vm_size is not offered in the workspace's region
    ├── ComputeQuotaExceededError        the cluster would pass the subscription's vCPU quota
    └── ComputeProvisioningError         Azure could not provision the cluster
    amlocal.exceptions.BackendError
    ├── AzureServiceError                any other Azure ML service error, with its message
    │   └── AzureTimeoutError            Azure did not answer within the connect/read timeouts
    └── DatastoreAuthError               Azure Storage refused a datastore transfer: no key or
                                         SAS token on the datastore, or no permission
    amlocal.exceptions.InvalidArgumentError
    └── DatastoreNotSupportedError       a datastore amlocal cannot transfer through (Azure Files)

The adapters (``sdk_adapter`` and ``fake``) raise the SDK's own exception types. ``sdk_errors``
turns them into the types above or into amlocal's general ones (ModelNotFoundError,
ModelPathNotFoundException, RunNotFoundError, InvalidArgumentError), most specific first, so
user code never has to catch an azureml exception.
"""

import contextlib
import json
import re

from amlocal.exceptions import (AmlocalError, BackendError, BackendUnavailableError, ComputeTargetException, ConfigError,
                                InvalidArgumentError, ModelNotFoundError, ModelPathNotFoundException,
                                RunNotFoundError)


class AzureCredentialsError(BackendUnavailableError):
    pass


class AzureWorkspaceNotFoundError(ConfigError):
    pass


class VmSizeUnavailableError(ComputeTargetException):
    pass


class ComputeQuotaExceededError(ComputeTargetException):
    pass


class ComputeProvisioningError(ComputeTargetException):
    pass


class AzureServiceError(BackendError):
    pass


class AzureTimeoutError(AzureServiceError):
    pass


class DatastoreAuthError(BackendError):
    pass


class DatastoreNotSupportedError(InvalidArgumentError):
    pass


CREDENTIALS_HELP = ("Check that the service principal or signed-in account has access to the workspace "
                    "(for example the 'AzureML Data Scientist' role on it).")

_VM_SIZE_HINTS = ("vmsize", "vm size", "vm_size", "sku", "not supported in region", "notavailableforsubscription",
                  "not available in location")


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


def _message(err):
    return getattr(err, "message", None) or str(err)


def to_amlocal(err, action, compute=None, vm_size=None, run_id=None, model=None, workspace=None):
    """The amlocal error for ``err`` raised by an adapter while trying to ``action``; None when
    ``err`` is not an Azure error (a programming error keeps its own type)."""
    from azureml._restclient.exceptions import ServiceException
    from azureml.exceptions import (AuthenticationException, AzureMLException, ModelNotFoundException,
                                    ProjectSystemException, SnapshotException, UserErrorException,
                                    WebserviceException, WorkspaceException)
    from azureml.exceptions import ComputeTargetException as SdkComputeTargetException
    from azureml.exceptions import ModelPathNotFoundException as SdkModelPathNotFoundException

    text = _message(err)
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
        return AzureCredentialsError(f"Azure rejected the credentials while trying to {action}: {text}\n"
                                     + CREDENTIALS_HELP)
    if isinstance(err, (ProjectSystemException, WorkspaceException)) and "not found" in lowered:
        return AzureWorkspaceNotFoundError(
            f"Azure has no workspace {workspace or ''!s} as config.json describes it ({text}). Check "
            "subscription_id, resource_group and workspace_name in config.json (the portal's "
            "'Download config.json' gives the right values), and that your credentials can see it.")
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
        return RunNotFoundError(f"Azure ML has no run {run_id!r} in this workspace ({text}).")
    if isinstance(err, SnapshotException):
        return InvalidArgumentError(
            f"Azure ML cannot snapshot the source directory: {text.strip('= ')}\nPut only the code the job needs in "
            "source_directory: keep data in a datastore and virtual environments, outputs and caches elsewhere.")
    if isinstance(err, UserErrorException):
        return InvalidArgumentError(f"Azure ML refused to {action}: {text}")
    if isinstance(err, (AzureMLException, ServiceException)):
        return AzureServiceError(f"Azure ML failed to {action}: {text}")
    if _is_transport_error(err):
        return AzureServiceError(f"Could not reach Azure ML to {action}: {type(err).__name__}: {text}. "
                                 "Check the network connection (and any proxy settings).")
    if _is_http_response_error(err):
        return AzureServiceError(f"Azure refused to {action} (HTTP {getattr(err, 'status_code', '?')}): {text}")
    return None


def _compute_error(text, action, compute, vm_size):
    code, rp_message = _rp_error(text)
    detail = rp_message or text
    lowered = f"{code or ''} {detail}".lower()
    if text.startswith("Invalid "):  # refused by the SDK's own checks of a configuration, before Azure
        return ComputeTargetException(f"{text} (compute {compute!r}).")
    if "computetargetnotfound" in text.lower():
        return ComputeTargetException(
            f"ComputeTargetNotFound: Compute Target with name {compute} not found in provided workspace. "
            f"Create it with ComputeTarget.create(ws, {compute!r}, AmlCompute.provisioning_configuration("
            "vm_size='STANDARD_D2_V2', max_nodes=4)).")
    if "quota" in lowered:
        return ComputeQuotaExceededError(
            f"Creating compute {compute!r} ({vm_size}) would exceed the subscription's vCPU quota: {detail}\n"
            "Use a smaller vm_size or fewer max_nodes, or request more quota for this VM family "
            "(Azure portal > Quotas > Machine learning).")
    if any(hint in lowered.replace("-", " ") for hint in _VM_SIZE_HINTS) or "vm size" in lowered:
        return VmSizeUnavailableError(
            f"The VM size {vm_size!r} is not available for compute {compute!r}: {detail}\n"
            "Choose a size offered in the workspace's region (AmlCompute.supported_vmsizes(ws) lists them), "
            "e.g. 'STANDARD_D2_V2' or 'STANDARD_DS3_V2'.")
    if action == "provision compute" or "terminal state" in lowered or "provisioning" in lowered:
        return ComputeProvisioningError(
            f"Provisioning compute {compute!r} failed: {detail}\n"
            "See the cluster in Azure ML studio (Compute > Compute clusters) for details; delete it and "
            "create it again once the cause is fixed.")
    return ComputeTargetException(f"Azure ML failed to {action} {compute!r}: {detail}")


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

    from .timeouts import CONNECT_TIMEOUT_VARIABLE, READ_TIMEOUT_VARIABLE, limits

    connect, read = limits()
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    return AzureTimeoutError(
        f"Azure did not answer while trying to {action}: every attempt timed out (connect timeout {connect:g} s, "
        f"read timeout {read:g} s; the SDK retries a few times). {type(err).__name__}: {_message(err)}\n"
        f"Check the network connection and the proxy ({'HTTPS_PROXY=' + proxy if proxy else 'no HTTPS_PROXY set'}). "
        f"On a slow network raise {READ_TIMEOUT_VARIABLE} (or {CONNECT_TIMEOUT_VARIABLE}).")


@contextlib.contextmanager
def sdk_errors(action, **context):
    """Run the body; an Azure error it raises leaves as its amlocal counterpart (chained)."""
    try:
        yield
    except AmlocalError:
        raise
    except Exception as err:
        mapped = to_amlocal(err, action, **context)
        if mapped is None:
            raise
        raise mapped from err
