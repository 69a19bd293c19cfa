"""The model registry interface: versioned models per name."""

import abc
import re
from dataclasses import dataclass, field

from .exceptions import InvalidModelNameError

MODEL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-\._]{0,254}$")


def validate_model_name(name):
    if not isinstance(name, str) or not MODEL_NAME_PATTERN.match(name):
        raise InvalidModelNameError(
            f"Invalid model name {name!r}: a name starts with a letter or digit and has at most 255 "
            "letters, digits, '-', '.' or '_' (pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-\\._]{0,254}$)."
        )
    return name


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
    def register(self, name, source_path, run_id=None, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None, from_run_files=None):
        """Store a new version of model ``name`` and return its ModelRecord.
        ``source_path`` is a local file or directory; for a model taken from a run's files the
        backend passes ``from_run_files=(run_id, model_path)`` instead. Raises ModelError."""

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
