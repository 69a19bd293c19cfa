"""Which datastores the azureml backend can move files through, for the real SDK and the fake alike.

amlocal uploads, downloads and lists datastore files as azureml's own ``AzureBlobDatastore``
does: through the blob container with the account key or SAS token registered with the
datastore. So:

* an Azure Blob datastore with a key or a SAS token: supported;
* an Azure Blob datastore without either (identity-based access): refused, with the message
  azureml's ``Datastore.upload`` gives (``AzureBlobDatastore._ensure_credential``); its paths
  cannot be checked before a submit either, so they are left for Azure to check when the job
  mounts them;
* any other kind (``workspacefilestore`` is an Azure File share, ``AzureFileDatastore``):
  refused, saying to use a blob datastore such as the default ``workspaceblobstore``; its
  paths are not checked before a submit (Azure mounts file shares in jobs).

Refusals are the SDK's ``UserErrorException``; ``errors`` turns them into DatastoreAuthError and
DatastoreNotSupportedError.
"""


def _is_blob(datastore):
    from azureml.data.azure_storage_datastore import AzureBlobDatastore

    return isinstance(datastore, AzureBlobDatastore)


def refusal(datastore, action):
    """The SDK error refusing ``action`` ("Upload", "Download", "List") on ``datastore``, or None."""
    from azureml.exceptions import UserErrorException

    if not _is_blob(datastore):
        kind = getattr(datastore, "datastore_type", None) or type(datastore).__name__
        return UserErrorException(
            f"DatastoreTypeNotSupported: datastore {datastore.name!r} is of type {kind}; amlocal's azureml backend "
            f"transfers files through Azure Blob datastores only. Use the workspace's default blob datastore "
            f"(ws.get_default_datastore(), 'workspaceblobstore') or another AzureBlob datastore.")
    if getattr(datastore, "credential_type", "None") == "None":
        # the words of azureml's AzureBlobDatastore._ensure_credential
        return UserErrorException(f"{action} cannot be performed since the Azure Storage Blob datastore does not "
                                  "have an access key (account key) or SAS token. Please make sure the datastore "
                                  "has an access key or SAS token.")
    return None


def check(datastore, action):
    """Raise the refusal of ``action`` on ``datastore``, if any."""
    error = refusal(datastore, action)
    if error is not None:
        raise error


def paths_checkable(datastore):
    """Whether amlocal can list ``datastore`` to check a job's paths before submitting."""
    return refusal(datastore, "List") is None
