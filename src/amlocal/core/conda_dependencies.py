"""CondaDependencies: the packages of an environment, as in ``azureml.core.conda_dependencies``."""

import re
from pathlib import Path

from ..exceptions import InvalidArgumentError
from ..rules.packages import canonical_name

DEFAULT_PYTHON_VERSION = "3.10.18"
# A comment starts at a '#' that begins the line or follows whitespace (YAML and pip agree),
# so "git+https://...#egg=name" keeps its fragment.
COMMENT = re.compile(r"(?:^|\s)#")


class CondaDependencies:
    """pip and conda packages of an environment. Locally, pip packages are installed into a
    virtual environment; conda packages need an image that has conda."""

    def __init__(self, conda_dependencies_file_path=None, _underlying_structure=None):
        self._python_version = None
        self._pip_packages = []
        self._conda_packages = []
        self._pip_options = []
        self._channels = []
        if conda_dependencies_file_path:
            self._load(Path(conda_dependencies_file_path))
        elif _underlying_structure:
            self._load_structure(_underlying_structure)

    @staticmethod
    def create(pip_indexurl=None, pip_packages=None, conda_packages=None, python_version=DEFAULT_PYTHON_VERSION,
               pin_sdk_version=True):
        deps = CondaDependencies()
        deps._python_version = python_version
        for package in pip_packages or []:
            deps.add_pip_package(package)
        for package in conda_packages or []:
            deps.add_conda_package(package)
        if pip_indexurl:
            deps.set_pip_option(f"--index-url {pip_indexurl}")
        return deps

    @property
    def pip_packages(self):
        return list(self._pip_packages)

    @property
    def conda_packages(self):
        return list(self._conda_packages)

    @property
    def pip_options(self):
        return list(self._pip_options)

    def get_python_version(self):
        return self._python_version

    def set_python_version(self, version):
        self._python_version = version

    def add_pip_package(self, pip_package):
        _check_package(pip_package)
        if pip_package not in self._pip_packages:
            self._pip_packages.append(pip_package)

    def add_conda_package(self, conda_package):
        _check_package(conda_package)
        name = conda_package.split("=")[0].strip()
        if name == "python":
            self._python_version = conda_package.partition("=")[2].lstrip("=") or self._python_version
        elif name != "pip" and conda_package not in self._conda_packages:
            self._conda_packages.append(conda_package)

    def add_channel(self, channel):
        self._channels.append(channel)

    def set_pip_option(self, pip_option):
        if pip_option not in self._pip_options:
            self._pip_options.append(pip_option)

    def remove_pip_package(self, pip_package):
        self._pip_packages = [p for p in self._pip_packages if canonical_name(p) != canonical_name(pip_package)]

    @property
    def conda_channels(self):
        return list(self._channels)

    @classmethod
    def _from_parts(cls, python_version, pip_packages, conda_packages, pip_options, channels):
        deps = cls()
        deps._load_structure({"python_version": python_version, "pip_packages": pip_packages,
                              "conda_packages": conda_packages, "pip_options": pip_options, "channels": channels})
        return deps

    def _load_structure(self, data):
        self._python_version = data.get("python_version")
        self._pip_packages = list(data.get("pip_packages", []))
        self._conda_packages = list(data.get("conda_packages", []))
        self._pip_options = list(data.get("pip_options", []))
        self._channels = list(data.get("channels", []))

    def _load(self, path):
        """Read the usual shape of a conda environment file (name, channels, dependencies with a
        nested pip list) without a YAML dependency."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise InvalidArgumentError(f"Cannot read conda specification {path}: {err}") from err
        section, in_pip = None, False
        for raw in lines:
            line = strip_comment(raw)
            if not line.strip():
                continue
            if not raw.startswith((" ", "-", "\t")):
                section, in_pip = line.split(":", 1)[0].strip(), False
                continue
            item = line.strip()
            if not item.startswith("- "):
                continue
            value = item[2:].strip().strip("'\"")
            indent = len(raw) - len(raw.lstrip())
            if section == "channels":
                self._channels.append(value)
            elif section == "dependencies":
                if value.rstrip(":") == "pip" and value.endswith(":"):
                    in_pip, pip_indent = True, indent
                elif in_pip and indent > pip_indent:
                    if value.startswith("-"):
                        self.set_pip_option(value)
                    else:
                        self.add_pip_package(value)
                else:
                    in_pip = False
                    self.add_conda_package(value)


def strip_comment(line):
    """``line`` without its trailing comment and trailing whitespace."""
    return COMMENT.split(line, 1)[0].rstrip()




def _check_package(spec):
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidArgumentError(f"A package must be a non-empty string such as 'joblib' or 'numpy==2.0'; got {spec!r}.")
