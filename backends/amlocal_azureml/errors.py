"""How the Azure ML SDK v1's errors become amlocal's (the error tree and its messages are
``amlocal_azure.errors``, shared with the azureml-v2 backend).

The adapters (``sdk_adapter`` and ``fake``) raise the SDK's own exception types. ``to_amlocal``
picks their amlocal counterparts (the Azure errors, or amlocal's general ModelNotFoundError,
ModelPathNotFoundException, RunNotFoundError, InvalidArgumentError), most specific first, and
``sdk_errors`` raises them in place, so user code never has to catch an azureml exception.
"""

import json
import re

from amlocal.exceptions import InvalidArgumentError, ModelNotFoundError, ModelPathNotFoundException
from amlocal_azure import errors as azure_errors
from amlocal_azure.errors import *  # noqa: F401,F403 - the error tree, named where this backend's users look for it

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
    ``err`` is not an Azure error. The context names what the call was about (SDK v1's errors
    say which run or cluster only in their text, when at all)."""
    from azureml._restclient.exceptions import ServiceException
    from azureml.exceptions import (AuthenticationException, AzureMLException, ModelNotFoundException,
                                    ProjectSystemException, SnapshotException, UserErrorException,
                                    WebserviceException, WorkspaceException)
    from azureml.exceptions import ComputeTargetException as SdkComputeTargetException
    from azureml.exceptions import ModelPathNotFoundException as SdkModelPathNotFoundException

    text = azure_errors.message_of(err)
    lowered = text.lower()
    if isinstance(err, AuthenticationException):
        return azure_errors.credentials_refused(action, text)
    if isinstance(err, (ProjectSystemException, WorkspaceException)) and "not found" in lowered:
        return azure_errors.workspace_not_found(workspace, text)
    if isinstance(err, SdkComputeTargetException):
        if "computetargetnotfound" in lowered:
            return azure_errors.compute_not_found(compute)
        code, rp_message = _rp_error(text)
        return azure_errors.compute_error(rp_message or text, code, action, compute, vm_size, SIZES_LISTED_BY)
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
    return None


def _is_transport_error(err):
    """SDK v1 talks to Azure through requests (run history, workspace) and azure-core (storage)."""
    for module, name in (("requests.exceptions", "RequestException"), ("azure.core.exceptions", "AzureError")):
        try:
            base = getattr(__import__(module, fromlist=[name]), name)
        except ImportError:
            continue
        if isinstance(err, base):
            return True
    return False


#: ``with sdk_errors(action, **context):`` around SDK v1 calls (see ``to_amlocal``).
sdk_errors = azure_errors.sdk_errors(to_amlocal)
