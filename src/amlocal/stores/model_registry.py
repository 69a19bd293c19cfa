"""The model registry interface: versioned models per name."""

import abc
from dataclasses import dataclass, field


@dataclass
class ModelRecord:
    name: str
    version: int
    run_id: str = None
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    description: str = None
    created_time: float = None
    model_framework: str = None
    model_framework_version: str = None
    url: str = None

    @property
    def id(self):
        return f"{self.name}:{self.version}"


class ModelRegistry(abc.ABC):
    """Versions start at 1 for each name and go up by one, with no gap and no duplicate,
    whatever number of processes register at once."""

    @abc.abstractmethod
    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None):
        """Store a new version of model ``name`` from a local file or directory and return its
        ModelRecord. Raises ModelPathNotFoundException when ``source_path`` does not exist,
        ModelError when its files cannot be stored (nothing is registered then)."""

    @abc.abstractmethod
    def register_from_run(self, run_id, model_path, name, tags=None, properties=None, description=None,
                          model_framework=None, model_framework_version=None):
        """``run.register_model``: register the run file or folder ``model_path``
        (``amlocal.rules.models``). Raises ModelPathNotFoundException listing the run's files."""

    @abc.abstractmethod
    def get(self, name, version=None):
        """The ModelRecord of ``version`` (the latest when None). Raises ModelNotFoundError."""

    @abc.abstractmethod
    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        """ModelRecords matching every filter, newest version first. ``tags`` is a list of keys
        or [key, value] pairs; ``properties`` likewise."""

    @abc.abstractmethod
    def download(self, name, version, target_dir, exist_ok=False):
        """Copy the model's files into ``target_dir``; return the path of the file (a single-file
        model) or of the directory. Raises when the target exists and exist_ok is False."""

    @abc.abstractmethod
    def local_path(self, name, version=None):
        """A local path of the model's file or directory, downloading it if needed."""

    @abc.abstractmethod
    def delete(self, name, version):
        """Remove one version of a model. Raises ModelNotFoundError."""


def matches_filters(values, wanted):
    """azureml's tag/property filter: a list of keys, or of [key, value] pairs (a dict works too);
    True when ``values`` (a str -> str dict) has every one."""
    if not wanted:
        return True
    items = wanted.items() if isinstance(wanted, dict) else wanted
    for item in items:
        if isinstance(item, (list, tuple)):
            key, value = item
            if values.get(key) != str(value):
                return False
        elif item not in values:
            return False
    return True
