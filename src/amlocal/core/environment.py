"""Environment: what a run's image or virtualenv is built from (``azureml.core.Environment``)."""

from pathlib import Path

from ..exceptions import InvalidArgumentError
from ..specs import EnvironmentSpec
from .conda_dependencies import CondaDependencies, strip_comment


class PythonSection:
    def __init__(self):
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"


class DockerSection:
    def __init__(self):
        self.enabled = True
        self.base_image = None          # None: the workspace's base image, else python:3.11-slim
        self.base_dockerfile = None
        self.shm_size = None


class Environment:
    def __init__(self, name, **kwargs):
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError("An Environment needs a name (a non-empty string).")
        self.name = name
        self.version = kwargs.get("version")
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables = {}
        self._curated = False

    @staticmethod
    def from_pip_requirements(name, file_path, pip_version=None):
        path = Path(file_path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise InvalidArgumentError(f"Cannot read pip requirements file {path}: {err}") from err
        env = Environment(name)
        deps = env.python.conda_dependencies
        for raw in lines:
            line = strip_comment(raw).strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("-"):
                deps.set_pip_option(line)
            else:
                deps.add_pip_package(line)
        if pip_version:
            deps.add_pip_package(f"pip=={pip_version}")
        return env

    @staticmethod
    def from_conda_specification(name, file_path):
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=file_path)
        return env

    def register(self, workspace):
        """Store this definition in the workspace under the next version of its name."""
        registered = workspace.stores.environments.register(self._spec())
        self.version = registered.version
        return self

    @staticmethod
    def get(workspace, name, version=None, label=None):
        """A registered environment (the latest version when None), or a curated one by its
        name (``AzureML-sklearn-1.5``, ...). Raises EnvironmentNotFoundError."""
        return Environment._from_spec(workspace.stores.environments.get(name, version))

    @staticmethod
    def list(workspace):
        """{name: Environment} of the workspace's environments, curated ones included."""
        return {name: Environment._from_spec(spec) for name, spec in workspace.stores.environments.list().items()}

    def _spec(self):
        """This environment as plain data (``amlocal.specs.EnvironmentSpec``)."""
        deps = self.python.conda_dependencies
        return EnvironmentSpec(
            name=self.name, version=self.version, base_image=self.docker.base_image,
            python_version=deps.get_python_version(), pip_packages=deps.pip_packages,
            conda_packages=deps.conda_packages, pip_options=deps.pip_options, channels=deps.conda_channels,
            user_managed=bool(self.python.user_managed_dependencies),
            environment_variables=self.environment_variables, curated=self._curated)

    @classmethod
    def _from_spec(cls, spec):
        env = cls(spec.name, version=spec.version)
        env.docker.base_image = spec.base_image
        env.python.user_managed_dependencies = spec.user_managed
        env.python.conda_dependencies = CondaDependencies._from_parts(
            spec.python_version, spec.pip_packages, spec.conda_packages, spec.pip_options, spec.channels)
        env.environment_variables = dict(spec.environment_variables)
        env._curated = spec.curated
        return env

    def __repr__(self):
        return f"Environment(name={self.name!r}, pip={self.python.conda_dependencies.pip_packages})"
