"""Errors of the ``azureml-v2`` backend, and the one place SDK v2 errors become amlocal's.

    amlocal.exceptions.BackendUnavailableError
    └── AzureCredentialsError        no usable credentials, or Azure refused them
    amlocal.exceptions.ConfigError
    └── AzureWorkspaceNotFoundError  config.json names a workspace Azure does not know
    amlocal.exceptions.ComputeTargetException
    ├── VmSizeUnavailableError       the region does not offer that VM size
    ├── ComputeQuotaExceededError    the cluster would pass the subscription's vCPU quota
    └── ComputeProvisioningError     Azure could not provision the cluster
    amlocal.exceptions.BackendError
    ├── AzureServiceError            any other Azure ML service error, with its message
    └── AzureUnreachableError        no answer within the connect/read timeouts

The adapters raise the SDKs' own types (azure-core, azure-identity, azure-ai-ml, MLflow);
``sdk_errors`` turns them into the types above or amlocal's general ones (RunNotFoundError,
ModelNotFoundError, EnvironmentNotFoundError, InvalidArgumentError), most specific first, so user code never has to catch
an Azure exception.
"""

import contextlib

from amlocal.exceptions import (AmlocalError, BackendError, BackendUnavailableError, ComputeTargetException,
                                ConfigError, EnvironmentNotFoundError, InvalidArgumentError, ModelNotFoundError,
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


class AzureUnreachableError(AzureServiceError):
    pass


CREDENTIALS_HELP = ("Check that the service principal or signed-in account has access to the workspace (for "
                    "example the 'AzureML Data Scientist' role on it), or sign in again (`az login`).")
_VM_SIZE_HINTS = ("vmsize", "vm size", "vm_size", "sku", "not supported in region", "notavailableforsubscription",
                  "not available in location")


def _code(err):
    error = getattr(err, "error", None)
    code = getattr(error, "code", None)
    return code or getattr(err, "error_code", None) or ""


def _text(err):
    return str(getattr(err, "message", None) or err).strip()


def to_amlocal(err, action, job=None, compute=None, vm_size=None, model=None, datastore=None, workspace=None,
               environment=None, timeouts=None):
    """The amlocal error for ``err``, raised while trying to ``action``; None when ``err`` is not
    an Azure error (a programming error keeps its own type)."""
    from azure.core.exceptions import (AzureError, ClientAuthenticationError, HttpResponseError,
                                       ResourceNotFoundError, ServiceRequestError, ServiceResponseError)

    text, code = _text(err), _code(err)
    lowered = f"{code} {text}".lower()
    if isinstance(err, ClientAuthenticationError):
        return AzureCredentialsError(f"Azure refused the credentials while trying to {action}: {text}\n"
                                     + CREDENTIALS_HELP)
    if isinstance(err, (ServiceRequestError, ServiceResponseError)):
        limit = (f" (connect timeout {timeouts[0]} s, read timeout {timeouts[1]} s, {timeouts[2]} retries)"
                 if timeouts else "")
        return AzureUnreachableError(
            f"Could not reach Azure to {action}{limit}: {type(err).__name__}: {text}\nCheck the network connection "
            "and any proxy settings (HTTPS_PROXY); a proxy that accepts connections but never answers ends here too.")
    if isinstance(err, ResourceNotFoundError) or (isinstance(err, HttpResponseError) and err.status_code == 404):
        return _not_found(text, action, job, compute, model, datastore, workspace, environment)
    if isinstance(err, HttpResponseError):
        if err.status_code == 403 and datastore:
            return AzureCredentialsError(
                f"Azure Storage refused access to datastore {datastore!r} while trying to {action}: {text}\nAn "
                "identity-based (keyless) datastore is used with your own identity: it needs the 'Storage Blob Data "
                "Contributor' role on the storage account (or use a datastore with an account key or SAS token).")
        if err.status_code in (401, 403):
            return AzureCredentialsError(f"Azure refused to {action} ({err.status_code}): {text}\n" + CREDENTIALS_HELP)
        if compute is not None:
            return compute_error(text, code, action, compute, vm_size)
        if err.status_code and 400 <= err.status_code < 500:
            return InvalidArgumentError(f"Azure ML refused to {action}: {text}")
        return AzureServiceError(f"Azure ML failed to {action}: {text}")
    mlflow_error = _mlflow_error(err, text, action, job)
    if mlflow_error is not None:
        return mlflow_error
    try:
        from azure.ai.ml.exceptions import MlException, ValidationException
    except ImportError:  # pragma: no cover - the extra is installed with this backend
        MlException = ValidationException = ()
    category = str(getattr(err, "error_category", None) or getattr(err, "_error_category", "")).lower()
    if isinstance(err, ValidationException) or (isinstance(err, MlException) and "user" in category):
        return InvalidArgumentError(f"Azure ML SDK v2 refused to {action}: {text}")
    if isinstance(err, AzureError):
        if compute is not None and ("provision" in lowered or "failed" in lowered):
            return compute_error(text, code, action, compute, vm_size)
        return AzureServiceError(f"Azure ML failed to {action}: {text}")
    return None


def _not_found(text, action, job, compute, model, datastore, workspace, environment=None):
    if job:
        return RunNotFoundError(f"Azure ML has no job {job!r} in this workspace ({text}).")
    if compute:
        return ComputeTargetException(
            f"ComputeTargetNotFound: Compute Target with name {compute} not found in provided workspace. Create it "
            f"with ComputeTarget.create(ws, {compute!r}, AmlCompute.provisioning_configuration("
            "vm_size='STANDARD_D2_V2', max_nodes=4)).")
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
        return AzureWorkspaceNotFoundError(
            f"Azure has no workspace {workspace!r} as config.json describes it ({text}). Check subscription_id, "
            "resource_group and workspace_name in config.json (the portal's 'Download config.json' gives the right "
            "values), and that your credentials can see it.")
    return AzureServiceError(f"Azure ML found nothing to {action}: {text}")


def _mlflow_error(err, text, action, job):
    try:
        from mlflow.exceptions import MlflowException
    except ImportError:
        return None
    if not isinstance(err, MlflowException):
        return None
    if getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST" and job:
        return RunNotFoundError(f"Azure ML has no run {job!r} in this workspace's MLflow tracking ({text}).")
    return AzureServiceError(f"Azure ML's MLflow tracking failed to {action}: {text}")


def compute_error(text, code, action, compute, vm_size):
    lowered = f"{code} {text}".lower()
    if "quota" in lowered:
        return ComputeQuotaExceededError(
            f"Creating compute {compute!r} ({vm_size}) would exceed the subscription's vCPU quota: {text}\nUse a "
            "smaller vm_size or fewer max_nodes, or request more quota for this VM family (Azure portal > Quotas > "
            "Machine learning).")
    if action.startswith("provision") or "provision" in lowered:
        return ComputeProvisioningError(
            f"Provisioning compute {compute!r} failed: {text}\nSee the cluster in Azure ML studio (Compute > Compute "
            "clusters) for details; delete it and create it again once the cause is fixed.")
    if any(hint in lowered.replace("-", " ") for hint in _VM_SIZE_HINTS):
        return VmSizeUnavailableError(
            f"The VM size {vm_size!r} is not available for compute {compute!r}: {text}\nChoose a size offered in the "
            "workspace's region (ml_client.compute.list_sizes() lists them), e.g. 'STANDARD_D2_V2' or "
            "'STANDARD_DS3_V2'.")
    return ComputeTargetException(f"Azure ML failed to {action} {compute!r}: {text}")


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
