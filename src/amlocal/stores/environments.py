"""Registered environments of a workspace (``Environment.register`` / ``Environment.get``)."""

import abc


class EnvironmentStore(abc.ABC):
    """Versioned EnvironmentSpecs per name; versions are "1", "2", ... with no gap or
    duplicate whatever number of processes register at once."""

    @abc.abstractmethod
    def register(self, spec):
        """Store ``spec`` (an EnvironmentSpec) as the next version of its name; returns the
        spec with its ``version`` set."""

    @abc.abstractmethod
    def get(self, name, version=None):
        """The EnvironmentSpec of ``name`` (the latest version when None). Curated names
        (AzureML-...) resolve as the workspace knows them. Raises EnvironmentNotFoundError."""

    @abc.abstractmethod
    def list(self):
        """{name: latest EnvironmentSpec} of every environment, curated ones included."""
