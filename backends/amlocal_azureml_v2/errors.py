"""How SDK v2's errors become amlocal's (the error tree and its messages are
``amlocal_azure.errors``, shared with the azureml backend).

The adapters raise the SDKs' own types (azure-core, azure-identity, azure-ai-ml, MLflow);
``to_amlocal`` picks their amlocal counterparts (the Azure errors, or amlocal's general
RunNotFoundError, ModelNotFoundError, EnvironmentNotFoundError, InvalidArgumentError), most
specific first, and ``sdk_errors`` raises them in place, so user code never has to catch an
Azure exception.
"""

from amlocal.exceptions import EnvironmentNotFoundError, InvalidArgumentError, ModelNotFoundError
from amlocal_azure import errors as azure_errors
from amlocal_azure.errors import *  # noqa: F401,F403 - the error tree, named where this backend's users look for it
from amlocal_azure.errors import AzureCredentialsError, AzureServiceError

#: SDK v2's call that lists the VM sizes a region offers (named in the VM size error).
SIZES_LISTED_BY = "ml_client.compute.list_sizes()"


def _code(err):
    error = getattr(err, "error", None)
    code = getattr(error, "code", None)
    return code or getattr(err, "error_code", None) or ""


def to_amlocal(err, action, run_id=None, compute=None, vm_size=None, model=None, datastore=None, workspace=None,
               environment=None, timeouts=None):
    """The amlocal error for ``err``, raised while trying to ``action``; None when ``err`` is not
    an Azure error (a programming error keeps its own type). ``run_id`` is the job's name."""
    from azure.core.exceptions import (AzureError, ClientAuthenticationError, HttpResponseError,
                                       ResourceNotFoundError, ServiceRequestError, ServiceResponseError)

    text, code = azure_errors.message_of(err), _code(err)
    lowered = f"{code} {text}".lower()
    if isinstance(err, ClientAuthenticationError):
        return azure_errors.credentials_refused(action, text)
    if isinstance(err, (ServiceRequestError, ServiceResponseError)):
        return azure_errors.unreachable(action, err, text, timeouts)
    if isinstance(err, ResourceNotFoundError) or (isinstance(err, HttpResponseError) and err.status_code == 404):
        return _not_found(text, action, run_id, compute, model, datastore, workspace, environment)
    if isinstance(err, HttpResponseError):
        if err.status_code == 403 and datastore:
            return AzureCredentialsError(
                f"Azure Storage refused access to datastore {datastore!r} while trying to {action}: {text}\nAn "
                "identity-based (keyless) datastore is used with your own identity: it needs the 'Storage Blob Data "
                "Contributor' role on the storage account (or use a datastore with an account key or SAS token).")
        if err.status_code in (401, 403):
            return azure_errors.access_refused(action, text, err.status_code)
        if compute is not None:
            return azure_errors.compute_error(text, code, action, compute, vm_size, SIZES_LISTED_BY)
        if err.status_code and 400 <= err.status_code < 500:
            return azure_errors.refused(action, text)
        return azure_errors.service_failed(action, text)
    mlflow_error = _mlflow_error(err, text, action, run_id)
    if mlflow_error is not None:
        return mlflow_error
    try:
        from azure.ai.ml.exceptions import MlException, ValidationException
    except ImportError:  # pragma: no cover - the extra is installed with this backend
        MlException = ValidationException = ()
    category = str(getattr(err, "error_category", None) or getattr(err, "_error_category", "")).lower()
    if isinstance(err, ValidationException) or (isinstance(err, MlException) and "user" in category):
        return azure_errors.refused(action, text, by="Azure ML SDK v2")
    if isinstance(err, AzureError):
        if compute is not None and ("provision" in lowered or "failed" in lowered):
            return azure_errors.compute_error(text, code, action, compute, vm_size, SIZES_LISTED_BY)
        return azure_errors.service_failed(action, text)
    return None


def _not_found(text, action, run_id, compute, model, datastore, workspace, environment=None):
    if run_id:
        return azure_errors.run_not_found(run_id, text, kind="job")
    if compute:
        return azure_errors.compute_not_found(compute)
    if model:
        return ModelNotFoundError(f"ModelNotFound: Model with name {model} not found in provided workspace ({text}).")
    if environment:
        return EnvironmentNotFoundError(
            f"Azure ML has no environment {environment!r} in this workspace ({text}). Environment.list(ws) shows the "
            "environments there are; env.register(ws) registers one.")
    if datastore:
        return InvalidArgumentError(f"The workspace has no datastore {datastore!r} ({text}). ws.datastores lists "
                                    "its datastores; the default one is 'workspaceblobstore'.")
    if workspace:
        return azure_errors.workspace_not_found(workspace, text)
    return AzureServiceError(f"Azure ML found nothing to {action}: {text}")


def _mlflow_error(err, text, action, run_id):
    try:
        from mlflow.exceptions import MlflowException
    except ImportError:
        return None
    if not isinstance(err, MlflowException):
        return None
    if getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST" and run_id:
        return azure_errors.run_not_found(run_id, text, where="in this workspace's MLflow tracking")
    return azure_errors.service_failed(action, text, by="Azure ML's MLflow tracking")


#: ``with sdk_errors(action, **context):`` around SDK v2 calls (see ``to_amlocal``).
sdk_errors = azure_errors.sdk_errors(to_amlocal)
