"""Serving models: the interface a backend implements to run web services, and the plain data
that crosses it.

A web service (``Model.deploy``) is one scoring server — Azure's own
``azureml-inference-server-http`` — running an entry script over registered models. The user
API (``amlocal.core.webservice``) turns what the user wrote into a ``ServiceSpec`` and asks a
``ServingBackend`` to run it; the backend keeps its services so that any process can find them
again (``get``, ``list``), and reports them as ``ServiceRecord``s.

    ModelMount      one registered model version and where its files are on this machine
    ServiceSpec     what to run: environment, entry script and sources, models, port, limits
    ServiceRecord   a service as it is now: its spec, state, port and URIs
    ServingBackend  deploy / get / list / logs / delete

Implementations are found in the ``amlocal.serving`` entry-point group by name (``docker``
runs services as containers on this machine). ``open_serving(workspace, kind)`` picks one for
a workspace.

The container layout is Azure's (``azureml.core.webservice.local``): the source directory at
``/var/azureml-app/<its name>``, the models under ``/var/azureml-app/azureml-models/<name>/
<version>/``, and ``AZUREML_MODEL_DIR`` the one model's version directory when one model is
deployed, else ``azureml-models`` itself (one sub-directory per name and version).
"""

import abc
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass, field, fields
from pathlib import Path

from .exceptions import BackendUnavailableError, InvalidArgumentError
from .specs import EnvironmentSpec

__all__ = ["APP_ROOT", "MODELS_DIR", "ModelMount", "ServiceRecord", "ServiceSpec", "ServingBackend",
           "copy_app_sources", "model_dir_variable", "open_serving", "printable", "service_name_problem", "serving_environment"]

APP_ROOT = "/var/azureml-app"
MODELS_DIR = f"{APP_ROOT}/azureml-models"
#: what an environment needs to serve (on Azure, azureml-defaults brings it)
SERVER_PACKAGE = "azureml-inference-server-http"
ENTRY_POINT_GROUP = "amlocal.serving"
LOCAL_KIND = "docker"


@dataclass(frozen=True)
class ModelMount:
    """Model ``name`` version ``version``, whose file or directory is ``path`` on this machine."""

    name: str
    version: int
    path: str

    @property
    def container_path(self):
        return posixpath.join(MODELS_DIR, self.name, str(self.version), os.path.basename(self.path.rstrip("/")))

    def to_dict(self):
        return {"name": self.name, "version": self.version, "path": self.path}

    @classmethod
    def from_dict(cls, data):
        return cls(name=data["name"], version=int(data["version"]), path=data["path"])


@dataclass(frozen=True)
class ServiceSpec:
    """One deployment of a service. ``source_directory`` is copied when deployed (later edits
    reach the service on ``reload``); ``entry_script`` is relative to it, or a file of its own
    when there is no source directory. ``port`` None picks a free one; ``bind_address`` is
    where the port listens (loopback unless the user asks). ``compute_type`` is "Local" or
    "ACI" (an ACI deployment run on this machine, with its CPU and memory limits)."""

    name: str
    entry_script: str
    environment: EnvironmentSpec
    source_directory: str = None
    models: tuple = ()
    port: int = None
    bind_address: str = "127.0.0.1"
    compute_type: str = "Local"
    cpu_cores: float = None
    memory_gb: float = None
    description: str = None
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    #: the deployment configuration's other settings, for a backend that uses them (Azure's ACI)
    deployment_options: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models or ()))
        for name in ("tags", "properties", "deployment_options"):
            object.__setattr__(self, name, dict(getattr(self, name) or {}))

    @property
    def app_name(self):
        """The directory under /var/azureml-app holding the sources (Azure uses the source
        directory's name; a lone entry script sits in ``app``)."""
        if self.source_directory:
            return os.path.basename(os.path.realpath(self.source_directory)) or "app"
        return "app"

    @property
    def entry_in_app(self):
        """The entry script's path inside the sources directory."""
        if self.source_directory:
            return Path(self.entry_script).as_posix()
        return os.path.basename(self.entry_script)

    def to_dict(self):
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["environment"] = self.environment.to_dict()
        data["models"] = [m.to_dict() for m in self.models]
        return data

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["environment"] = EnvironmentSpec.from_dict(data["environment"])
        values["models"] = tuple(ModelMount.from_dict(m) for m in data.get("models") or ())
        return cls(**values)


@dataclass(frozen=True)
class ServiceRecord:
    """A service as its backend sees it now. ``state`` is LocalWebservice's: "deploying",
    "running", "failed" or "unknown" (no container). ``error`` says why it failed."""

    spec: ServiceSpec
    state: str
    port: int = None
    created_time: float = None
    updated_time: float = None
    error: str = None

    @property
    def name(self):
        return self.spec.name

    @property
    def base_url(self):
        if self.port is None:
            return None
        host = "localhost" if self.spec.bind_address in ("127.0.0.1", "0.0.0.0", "::", "::1") else \
            self.spec.bind_address
        return f"http://{host}:{self.port}"

    @property
    def scoring_uri(self):
        return self.base_url and f"{self.base_url}/score"

    @property
    def swagger_uri(self):
        return self.base_url and f"{self.base_url}/swagger.json"


class ServingBackend(abc.ABC):
    """Runs the web services of one workspace. Every method may raise
    BackendUnavailableError when the engine behind it cannot be reached."""

    @abc.abstractmethod
    def deploy(self, spec, log):
        """Start ``spec`` (a ServiceSpec) as service ``spec.name`` and return its ServiceRecord,
        usually "deploying". Progress (an image build) goes to ``log`` (a text stream). When a
        service of that name runs, the new deployment replaces it with no request failing: the
        call waits until the new one answers, then stops the old one; if the new one fails,
        the old one keeps serving and WebserviceException says why (with the log's tail).
        Raises WebserviceException for a port in use, EnvironmentBuildError for a failed build."""

    @abc.abstractmethod
    def wait(self, name, timeout):
        """Block until service ``name`` answers its health probe (its ServiceRecord, "running")
        or fails. Raises WebserviceException with the end of its log when the server exits
        (``init()`` raised, say) or ``timeout`` seconds pass."""

    @abc.abstractmethod
    def get(self, name):
        """The ServiceRecord of ``name``; WebserviceNotFoundError when there is none."""

    @abc.abstractmethod
    def list(self):
        """ServiceRecords of every service of the workspace, by name."""

    @abc.abstractmethod
    def logs(self, name, num_lines=5000):
        """The last ``num_lines`` lines the service's server printed (text)."""

    @abc.abstractmethod
    def delete(self, name):
        """Stop and remove service ``name``: nothing of it keeps running. No-op when absent."""

    def vanished(self, model_exists):
        """[(name, why)] of the services that cannot run again because a model they serve is no
        longer registered (``model_exists(name, version)`` false, or its files gone) or their
        environment's image is gone. Nothing is removed (``amlocal gc --services`` does)."""
        return []


def service_name_problem(name):
    """Why ``name`` cannot name a service (azureml's rule: lower-case letters, digits and dashes,
    starting with a letter, 3 to 32 characters), or None. It also keeps names safe as file and
    container names."""
    import re

    if isinstance(name, str) and 3 <= len(name) <= 32 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name):
        return None
    return ("Error, provided service name is invalid. It must only consist of lowercase letters, numbers, or "
            "dashes, start with a letter, end with a letter or number, and be between 3 and 32 characters long.")


def serving_environment(environment):
    """The EnvironmentSpec a service runs in: ``environment`` plus the inference server unless it
    lists it. azureml-defaults is not enough: its recent releases need a package with no wheel
    (fusepy), so a wheel-only resolution settles on azureml-defaults 1.0.45, which has no server."""
    from .rules.packages import canonical_name
    from .specs import replace

    names = {canonical_name(p) for p in environment.pip_packages}
    if SERVER_PACKAGE in names or environment.user_managed:
        return environment
    return replace(environment, pip_packages=(*environment.pip_packages, SERVER_PACKAGE))


def model_dir_variable(models):
    """AZUREML_MODEL_DIR as Azure sets it: the version directory of a lone model, else the
    directory holding every <name>/<version>."""
    if len(models) == 1:
        return posixpath.join(MODELS_DIR, models[0].name, str(models[0].version))
    return MODELS_DIR


def copy_app_sources(spec, target):
    """Copy the service's sources into ``target`` (which must not exist): the source directory,
    or the lone entry script. Links are copied as what they point to only when that stays
    inside the source directory; others are left out (a service sees nothing else of the host).
    Returns the paths left out."""
    skipped = []
    if not spec.source_directory:
        target.mkdir(parents=True)
        shutil.copyfile(spec.entry_script, target / os.path.basename(spec.entry_script))
        return skipped
    root = os.path.realpath(spec.source_directory)

    def ignore(directory, names):
        left_out = []
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                real = os.path.realpath(path)
                if os.path.commonpath([root, real]) != root or not os.path.exists(real):
                    left_out.append(name)
                    skipped.append(os.path.relpath(path, root))
            elif name == "__pycache__" or not (os.path.isdir(path) or stat.S_ISREG(os.lstat(path).st_mode)):
                left_out.append(name)
        return left_out

    shutil.copytree(root, target, symlinks=False, ignore=ignore)
    return skipped


def serving_class(kind):
    """The ServingBackend class registered as ``kind`` in the ``amlocal.serving`` group."""
    from importlib import import_module
    from importlib.metadata import entry_points

    try:
        found = entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python < 3.10
        found = entry_points().get(ENTRY_POINT_GROUP, [])
    targets = {ep.name: ep.value for ep in found}
    if kind not in targets:
        raise BackendUnavailableError(
            f"No serving backend named {kind!r} is installed (known: {', '.join(sorted(targets)) or 'none'}). "
            "Reinstall amlocal (pip install -e .) so that its entry points are registered.")
    module_name, _, class_name = targets[kind].partition(":")
    try:
        return getattr(import_module(module_name), class_name)
    except ImportError as err:
        raise BackendUnavailableError(f"The {kind!r} serving backend cannot be loaded ({err}).") from err


def open_serving(workspace, kind=LOCAL_KIND):
    """The ServingBackend ``kind`` for ``workspace`` (the user-facing Workspace). Local services
    are recorded under the workspace's local directory, whichever backend runs its jobs."""
    from ._local.ids import home_id
    from ._local.stores import workspace_root

    if not isinstance(kind, str) or not kind:
        raise InvalidArgumentError("A serving backend is chosen by a non-empty name.")
    info = workspace._info
    root = workspace_root(info)
    stores = workspace.stores if kind != LOCAL_KIND else None
    return serving_class(kind)(info, root / "services", home_id(root), stores)


_CONTROL = None


def printable(text):
    """``text`` (a service's log: whatever its score.py printed) safe to show on a terminal:
    escape sequences and control characters other than newlines and tabs are removed."""
    global _CONTROL
    import re

    if _CONTROL is None:
        _CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    return _CONTROL.sub("", text.replace("\r\n", "\n"))
