"""Plain data that crosses every boundary below the user API.

``amlocal.core`` builds these once from what the user wrote (a ScriptRunConfig, an SKLearn
estimator, an Environment, a datastore path); every backend, the run supervisor and the
run's ``spec.json`` use them and nothing else. They are frozen dataclasses with an exact JSON
round trip (``to_dict`` / ``from_dict``), so a spec written by one process is read back
unchanged by another.

    EnvironmentSpec   what an environment (image, virtualenv, Azure environment) is built from
    DataPathSpec      a datastore path given to a job as an argument (mounted or downloaded)
    RunSpec           one submitted run: script, arguments, environment, compute target, ...
    SweepSpec         a HyperDrive sweep: the trial's RunSpec and the sweep's configuration
    WorkspaceInfo     which workspace a backend works for (never the user-facing Workspace)
"""

from dataclasses import dataclass, field, fields, replace

__all__ = ["DataPathSpec", "EnvironmentSpec", "RunSpec", "SweepSpec", "WorkspaceInfo", "replace"]


def _tuple(values):
    return tuple(values or ())


@dataclass(frozen=True)
class EnvironmentSpec:
    """An environment: packages, Python version, base image, variables. ``base_image`` None
    means "the workspace's default"; ``curated`` marks a name Azure ML provides itself."""

    name: str
    version: str = None
    base_image: str = None
    python_version: str = None
    pip_packages: tuple = ()
    conda_packages: tuple = ()
    pip_options: tuple = ()
    channels: tuple = ()
    user_managed: bool = False
    environment_variables: dict = field(default_factory=dict)
    curated: bool = False

    def __post_init__(self):
        for name in ("pip_packages", "conda_packages", "pip_options", "channels"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        object.__setattr__(self, "environment_variables",
                           {str(k): str(v) for k, v in (self.environment_variables or {}).items()})

    @property
    def has_packages(self):
        return bool(self.pip_packages or self.conda_packages)

    def to_dict(self):
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("pip_packages", "conda_packages", "pip_options", "channels"):
            data[name] = list(data[name])
        data["environment_variables"] = dict(self.environment_variables)
        return data

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class DataPathSpec:
    """``ds.path("iris").as_mount()`` / ``.as_download(path_on_compute=...)`` as an argument:
    the job receives a path to the data. ``path_on_datastore`` "" is the datastore's root."""

    datastore: str
    path_on_datastore: str = ""
    mode: str = "mount"              # "mount" (read-only, in place) or "download" (a copy)
    path_on_compute: str = None
    reference_name: str = None
    overwrite: bool = False

    def __post_init__(self):
        if self.mode not in ("mount", "download"):
            raise ValueError(f"DataPathSpec.mode must be 'mount' or 'download', got {self.mode!r}")
        object.__setattr__(self, "path_on_datastore", self.path_on_datastore or "")
        object.__setattr__(self, "reference_name", self.reference_name or self.datastore)

    @property
    def placeholder(self):
        """What azureml prints for the reference before it is resolved."""
        return f"$AZUREML_DATAREFERENCE_{self.reference_name}"

    def to_dict(self):
        return {"kind": "datapath", **{f.name: getattr(self, f.name) for f in fields(self)}}

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _argument_to_json(value):
    return value.to_dict() if isinstance(value, DataPathSpec) else value


def _argument_from_json(value):
    return DataPathSpec.from_dict(value) if isinstance(value, dict) else value


def argument_text(value):
    """A script argument as Azure ML shows it in a run's definition: a data path (a DataPathSpec
    or its stored dict) as its ``$AZUREML_DATAREFERENCE_<name>`` placeholder, anything else as text."""
    if isinstance(value, dict) and value.get("kind") == "datapath":
        try:
            value = DataPathSpec.from_dict(value)
        except (TypeError, ValueError):
            return "$AZUREML_DATAREFERENCE_?"
    return value.placeholder if isinstance(value, DataPathSpec) else str(value)


@dataclass(frozen=True)
class RunSpec:
    """One run as submitted. ``arguments`` items are str or DataPathSpec; ``compute_target``
    None runs on the local machine with no node limit; ``parent_run_id`` makes it a child
    (a HyperDrive trial)."""

    experiment: str
    source_directory: str
    script: str
    arguments: tuple = ()
    environment: EnvironmentSpec = None
    compute_target: str = None
    tags: dict = field(default_factory=dict)
    properties: dict = field(default_factory=dict)
    max_run_duration_seconds: int = None
    parent_run_id: str = None
    network: bool = True
    run_id: str = None               # the id to give the run (a sweep's child: <parent>_<n>); None: a new one

    def __post_init__(self):
        object.__setattr__(self, "arguments", tuple(
            a if isinstance(a, DataPathSpec) else str(a) for a in (self.arguments or ())))
        object.__setattr__(self, "tags", {str(k): None if v is None else str(v) for k, v in (self.tags or {}).items()})
        object.__setattr__(self, "properties", {str(k): str(v) for k, v in (self.properties or {}).items()})
        if self.environment is None:
            object.__setattr__(self, "environment", EnvironmentSpec(name="amlocal-default"))

    @property
    def data_paths(self):
        return [a for a in self.arguments if isinstance(a, DataPathSpec)]

    def to_dict(self):
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["arguments"] = [_argument_to_json(a) for a in self.arguments]
        data["environment"] = self.environment.to_dict()
        data["tags"], data["properties"] = dict(self.tags), dict(self.properties)
        return data

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["arguments"] = tuple(_argument_from_json(a) for a in data.get("arguments") or ())
        values["environment"] = EnvironmentSpec.from_dict(data.get("environment") or {"name": "amlocal-default"})
        return cls(**values)


@dataclass(frozen=True)
class SweepSpec:
    """A HyperDrive sweep: ``trial`` is the RunSpec every child starts from, ``config`` the
    sweep's configuration as ``HyperDriveConfig.to_dict()`` gives it (sampling, primary metric,
    limits, policy), ``seed`` makes sampling reproducible."""

    experiment: str
    trial: RunSpec
    config: dict
    seed: int = 0
    tags: dict = field(default_factory=dict)
    run_id: str = None

    def to_dict(self):
        return {"experiment": self.experiment, "trial": self.trial.to_dict(), "config": self.config,
                "seed": self.seed, "tags": dict(self.tags), "run_id": self.run_id}

    @classmethod
    def from_dict(cls, data):
        return cls(experiment=data["experiment"], trial=RunSpec.from_dict(data["trial"]), config=data["config"],
                   seed=data.get("seed", 0), tags=data.get("tags") or {}, run_id=data.get("run_id"))


@dataclass(frozen=True)
class WorkspaceInfo:
    """The workspace a backend or store works for, as plain data: its names, where a local
    workspace lives (``root``), its config.json values and its default base image."""

    name: str
    subscription_id: str = "local"
    resource_group: str = "local"
    root: str = None
    config: dict = field(default_factory=dict)
    base_image: str = None

    def check_azure_ids(self, backend):
        """Raise ConfigError when this is a local workspace (config.json ``"local": true``, as
        ``amlocal init`` writes it): its subscription and resource group are placeholders that
        an Azure backend must never send to Azure as if they were real."""
        if self.config.get("local") is True:
            from .exceptions import ConfigError

            raise ConfigError(
                f"Workspace {self.name!r} is a local workspace (its config.json says \"local\": true and holds no "
                f"Azure ids), so the {backend} backend cannot open it. Use the docker or process backend here, or "
                "download the workspace's own config.json from the Azure portal (subscription_id, resource_group, "
                "workspace_name) to run on Azure ML.")

    def to_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
