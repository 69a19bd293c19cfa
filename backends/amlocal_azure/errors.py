"""The errors of both Azure ML backends, and the messages they say.

    amlocal.exceptions.BackendUnavailableError
    └── AzureCredentialsError            no usable credentials, or Azure refused them
    amlocal.exceptions.ConfigError
    └── AzureWorkspaceNotFoundError      config.json names a workspace Azure does not know
    amlocal.exceptions.ComputeTargetException
    ├── VmSizeUnavailableError           the region does not offer that VM size
    ├── ComputeQuotaExceededError        the cluster would pass the subscription's vCPU quota
    └── ComputeProvisioningError         Azure could not provision the cluster
    amlocal.exceptions.BackendError
    └── AzureServiceError                any other Azure ML service error, with its message
        └── AzureUnreachableError        no answer from Azure (network, proxy, timeouts)
            └── AzureTimeoutError        every attempt timed out (the connect/read timeouts)

Each backend's ``errors.to_amlocal`` knows its SDK's exception types and picks, most specific
first, which of these (or of amlocal's general errors) an SDK error is; the words are built
here, so a user reads the same message whichever SDK is underneath. ``sdk_errors`` turns one
``to_amlocal`` into the guard the backend puts around every SDK call.
"""

import contextlib

from amlocal.exceptions import (AmlocalError, BackendError, BackendUnavailableError, ComputeTargetException,
                                ConfigError, InvalidArgumentError, RunNotFoundError)

from . import timeouts as timeout_settings

#: The tree (what ``from amlocal_azure.errors import *`` gives a backend's errors module).
__all__ = ["AzureCredentialsError", "AzureWorkspaceNotFoundError", "VmSizeUnavailableError",
           "ComputeQuotaExceededError", "ComputeProvisioningError", "AzureServiceError", "AzureUnreachableError",
           "AzureTimeoutError"]


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


class AzureTimeoutError(AzureUnreachableError):
    pass


CREDENTIALS_HELP = ("Check that the service principal or signed-in account has access to the workspace (for "
                    "example the 'AzureML Data Scientist' role on it), or sign in again (`az login`).")

#: Words of a service error about a VM size the region or the subscription does not offer.
VM_SIZE_HINTS = ("vmsize", "vm size", "vm_size", "sku", "not supported in region", "notavailableforsubscription",
                 "not available in location")


def message_of(err):
    """What an SDK error says (its ``message`` when it has one)."""
    return str(getattr(err, "message", None) or err).strip()


def credentials_refused(action, text):
    return AzureCredentialsError(f"Azure refused the credentials while trying to {action}: {text}\n"
                                 + CREDENTIALS_HELP)


def access_refused(action, text, status):
    """Signed in, but not allowed: Azure answered 401 or 403."""
    return AzureCredentialsError(f"Azure refused to {action} ({status}): {text}\n" + CREDENTIALS_HELP)


def workspace_not_found(workspace, text):
    return AzureWorkspaceNotFoundError(
        f"Azure has no workspace {str(workspace or '')!r} as config.json describes it ({text}). Check "
        "subscription_id, resource_group and workspace_name in config.json (the portal's 'Download config.json' "
        "gives the right values), and that your credentials can see it.")


def run_not_found(run_id, text, kind="run", where="in this workspace"):
    return RunNotFoundError(f"Azure ML has no {kind} {run_id!r} {where} ({text}).")


def refused(action, text, by="Azure ML"):
    return InvalidArgumentError(f"{by} refused to {action}: {text}")


def service_failed(action, text, by="Azure ML"):
    return AzureServiceError(f"{by} failed to {action}: {text}")


def unreachable(action, err, text, timeouts=None):
    """``timeouts``: (connect s, read s, retries) every call had, when the backend bounds them."""
    limit = (f" (connect timeout {timeouts[0]:g} s, read timeout {timeouts[1]:g} s, {timeouts[2]} {'retry' if timeouts[2] == 1 else 'retries'})"
             if timeouts else "")
    slow = (f" On a slow network raise {timeout_settings.READ_TIMEOUT_VARIABLE} (or "
            f"{timeout_settings.CONNECT_TIMEOUT_VARIABLE}, {timeout_settings.RETRIES_VARIABLE}), or the same in "
            f"config.json's \"{timeout_settings.CONFIG_KEY}\"." if timeouts else "")
    return AzureUnreachableError(
        f"Could not reach Azure to {action}{limit}: {type(err).__name__}: {text}\nCheck the network connection "
        "and any proxy settings (HTTPS_PROXY); a proxy that accepts connections but never answers ends here too."
        + slow)


def compute_not_found(compute):
    return ComputeTargetException(
        f"ComputeTargetNotFound: Compute Target with name {compute} not found in provided workspace. Create it "
        f"with ComputeTarget.create(ws, {compute!r}, AmlCompute.provisioning_configuration("
        "vm_size='STANDARD_D2_V2', max_nodes=4)).")


def compute_error(text, code, action, compute, vm_size, sizes_listed_by):
    """Which ComputeTargetException a service error about cluster ``compute`` is: the quota, a
    failed provisioning, a VM size the region lacks, or another. ``text`` and ``code``: the
    service's message and error code; ``sizes_listed_by``: the SDK call that lists the sizes."""
    lowered = f"{code or ''} {text}".lower()
    if "quota" in lowered:
        return ComputeQuotaExceededError(
            f"Creating compute {compute!r} ({vm_size}) would exceed the subscription's vCPU quota: {text}\nUse a "
            "smaller vm_size or fewer max_nodes, or request more quota for this VM family (Azure portal > Quotas > "
            "Machine learning).")
    # before the VM size: a failed allocation names the "requested VM size" too
    if action.startswith("provision") or "provision" in lowered or "terminal state" in lowered:
        return ComputeProvisioningError(
            f"Provisioning compute {compute!r} failed: {text}\nSee the cluster in Azure ML studio (Compute > Compute "
            "clusters) for details; delete it and create it again once the cause is fixed.")
    if any(hint in lowered.replace("-", " ") for hint in VM_SIZE_HINTS):
        return VmSizeUnavailableError(
            f"The VM size {vm_size!r} is not available for compute {compute!r}: {text}\nChoose a size offered in the "
            f"workspace's region ({sizes_listed_by} lists them), e.g. 'STANDARD_D2_V2' or 'STANDARD_DS3_V2'.")
    return ComputeTargetException(f"Azure ML failed to {action} {compute!r}: {text}")


def sdk_errors(to_amlocal):
    """The guard of one backend: ``with guard(action, **context):`` runs its body, and an SDK
    error it raises leaves as ``to_amlocal(err, action, **context)`` (chained), or as itself
    when that is None (a programming error keeps its own type). amlocal's errors pass as they are."""

    @contextlib.contextmanager
    def guard(action, **context):
        try:
            yield
        except AmlocalError:
            raise
        except Exception as err:
            mapped = to_amlocal(err, action, **context)
            if mapped is None:
                raise
            raise mapped from err

    return guard
