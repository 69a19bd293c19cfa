"""Environment: what a run's image or virtualenv is built from (``azureml.core.Environment``)."""

import json
import os
from pathlib import Path

from ..exceptions import InvalidArgumentError
from .conda_dependencies import CondaDependencies, strip_comment

DEFAULT_BASE_IMAGE = "python:3.11-slim"


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
        """Store this definition in the workspace under the next version of its name (safe when
        several processes register at once: a version file is created exclusively)."""
        directory = Path(workspace._local_root) / "environments" / self.name
        directory.mkdir(parents=True, exist_ok=True)
        version = len(list(directory.glob("*.json"))) + 1
        while True:
            try:
                fd = os.open(directory / f"{version}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                version += 1
        self.version = str(version)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self.to_dict(), indent=2))
        return self

    @staticmethod
    def get(workspace, name, version=None, label=None):
        directory = Path(workspace._local_root) / "environments" / name
        versions = sorted((int(p.stem) for p in directory.glob("*.json")), reverse=True)
        if not versions or (version is not None and int(version) not in versions):
            raise InvalidArgumentError(f"No registered environment {name!r}"
                                       + (f" version {version}" if version else "") + ".")
        chosen = int(version) if version is not None else versions[0]
        env = Environment.from_dict(json.loads((directory / f"{chosen}.json").read_text()))
        env.version = str(chosen)
        return env

    def to_dict(self):
        return {
            "name": self.name,
            "base_image": self.docker.base_image,
            "user_managed_dependencies": self.python.user_managed_dependencies,
            "conda_dependencies": self.python.conda_dependencies.to_dict(),
            "environment_variables": dict(self.environment_variables),
        }

    @classmethod
    def from_dict(cls, data):
        env = cls(data["name"])
        env.docker.base_image = data.get("base_image")
        env.python.user_managed_dependencies = data.get("user_managed_dependencies", False)
        env.python.conda_dependencies = CondaDependencies.from_dict(data.get("conda_dependencies", {}))
        env.environment_variables = dict(data.get("environment_variables", {}))
        return env

    def __repr__(self):
        return f"Environment(name={self.name!r}, pip={self.python.conda_dependencies.pip_packages})"
