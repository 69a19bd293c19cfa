"""The datastores of a workspace: named stores of files that jobs read (``Datastore``)."""

import abc

DEFAULT_DATASTORE = "workspaceblobstore"


class Datastores(abc.ABC):
    """Files by '/'-separated path inside each named datastore. Every method raises
    InvalidArgumentError for a datastore name or path that breaks the naming rules."""

    @abc.abstractmethod
    def names(self):
        """The workspace's datastore names (the default one always among them)."""

    @abc.abstractmethod
    def upload(self, datastore, files, overwrite=False, show_progress=True):
        """Store [(local path, path in the datastore)], printing azureml's progress lines when
        ``show_progress``; existing paths are skipped unless ``overwrite``. Returns the count."""

    @abc.abstractmethod
    def download(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        """Copy the files under ``prefix`` into ``target_path``; returns the count."""

    @abc.abstractmethod
    def list(self, datastore, prefix=None):
        """Sorted paths of the files under ``prefix``."""

    @abc.abstractmethod
    def exists(self, datastore, path):
        """Whether ``path`` ("" is the root) is a file or a folder holding files."""
