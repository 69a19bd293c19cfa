"""Preparing, in ``FakeAzureAdapter``: the run's environment built the way Azure ML builds its
image, so a bad pin or a Python version clash fails here as it fails on Azure.

What an AmlCompute image holds for an Environment (``to_environment``'s conda specification):
a conda environment with ``python=<version>``, the conda packages, and the pip packages. The
fake builds the same with the process backend's builder (``amlocal_process.virtualenvs``): a
virtualenv on an interpreter of that Python version found on this machine, holding

* the pip packages as written, pins and options included;
* the conda packages installed with pip (there is no conda offline): ``numpy=1.26`` becomes
  ``numpy==1.26.*``; a name PyPI does not know (a conda-only library such as ``libgomp``) is
  skipped, with a line in the build log;
* not Azure ML's runtime packages (``azureml-defaults``, ``azureml-core``, ... any ``azureml-*``):
  they are Azure-only in what they do (they log to the workspace), they pull in hundreds of
  megabytes, and the job gets amlocal's ``azureml.core.run`` shim instead. Their pins are still
  checked: each must exist for that Python version (``pip download --no-deps``), so a bad pin of
  ``azureml-defaults`` fails as on Azure.

A user-managed environment (``python.user_managed_dependencies``) is not built, on Azure either:
its job runs with the base image's interpreter, here the fake's ``python``.

The interpreter: the requested version from this machine (``python3.X`` on PATH, or pyenv's).
When there is none, the packages are checked to resolve for the requested version (so a clash
still fails as on Azure), then the job runs with this machine's Python, and the build log says
so; if they do not install on it, the run fails saying that this is the fake's limit.

A build writes ``azureml-logs/20_image_build_log.txt`` into the run's files (Azure writes it
only when it builds an image: a cached environment has none) and ends the run Failed with
Azure's error (``image_build_error``) when pip cannot install the packages.
"""

import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from amlocal.exceptions import EnvironmentBuildError
from amlocal.local import (PreparationCanceled, PythonChoice, cache_dir, download_wheels, find_uv, host_interpreter,
                           split_pip_options, this_interpreter)
from amlocal.rules.packages import canonical_name
from amlocal.specs import EnvironmentSpec
from amlocal_azure.times import utc
from amlocal_process.virtualenvs import virtualenv

IMAGE_BUILD_LOG = "azureml-logs/20_image_build_log.txt"
_CONDA_SPEC = re.compile(r"^(?:[\w.-]+::)?([A-Za-z0-9][\w.-]*)(?:\s*(==|>=|<=|!=|>|<|=)\s*|\s+)?([^=\s,]+)?")


def image_build_error(log_name=IMAGE_BUILD_LOG):
    """The ``error`` Azure ML gives a run whose image build failed."""
    return {"code": "UserError", "message": f"Image build failed. For more details, check log file {log_name}.",
            "messageFormat": "Image build failed. For more details, check log file {ArtifactPath}.",
            "messageParameters": {"ArtifactPath": log_name}, "details": [],
            "innerError": {"code": "BadArgument", "innerError": {"code": "ImageBuildFailure"}}}


def conda_to_pip(spec):
    """The pip requirement of a conda package spec ("numpy=1.26" -> "numpy==1.26.*"), or None
    for "python"/"pip" (the interpreter and the installer themselves)."""
    match = _CONDA_SPEC.match(str(spec).strip())
    if not match:
        return str(spec)
    name, operator, version = match.groups()
    if canonical_name(name) in ("python", "pip"):
        return None
    if not version:
        return name
    if operator in ("=", None):  # conda's "=1.26" (or "numpy 1.26") means 1.26.*
        return f"{name}=={version}" if version.count(".") >= 2 else f"{name}=={version}.*"
    return f"{name}{operator}{version}"


def is_azureml_runtime(requirement):
    return canonical_name(requirement).startswith("azureml-")


@dataclass(frozen=True)
class ImagePlan:
    """What the image of an environment is built from."""
    name: str
    python_version: str = None           # "3.11"; None: whatever the base image has
    pip_packages: tuple = ()             # installed, in order: conda ones first, then pip ones
    pip_options: tuple = ()
    runtime_packages: tuple = ()         # azureml-*: checked, not installed
    conda_packages: tuple = ()           # as written, for the log
    user_managed: bool = False
    notes: tuple = field(default_factory=tuple)


def plan_image(environment):
    """The ImagePlan of a real azureml Environment."""
    deps = environment.python.conda_dependencies
    version = deps.get_python_version() if deps else None
    version = ".".join(str(version).split(".")[:2]) if version else None
    conda = [c for c in (deps.conda_packages if deps else []) if conda_to_pip(c) is not None]
    pip = list(deps.pip_packages) if deps else []
    installed = [conda_to_pip(c) for c in conda] + [p for p in pip if not is_azureml_runtime(p)]
    return ImagePlan(name=environment.name, python_version=version, pip_packages=tuple(installed),
                     pip_options=tuple(deps.pip_options) if deps else (),
                     runtime_packages=tuple(p for p in pip if is_azureml_runtime(p)), conda_packages=tuple(conda),
                     user_managed=bool(environment.python.user_managed_dependencies))


class _Log:
    """The build log, created at the first line written (a cached environment leaves none)."""

    def __init__(self, path, header):
        self.path, self.header, self._file = Path(path), header, None

    def write(self, text):
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8", buffering=1)
            self._file.write(self.header)
        self._file.write(text)

    def close(self):
        if self._file is not None:
            self._file.close()


class FakeLimit(Exception):
    """Azure would build this environment; this machine cannot run it."""


def _runtime_cache(python_version):
    return cache_dir() / "azureml-fake" / f"runtime-py{python_version}"


def _check_runtime_packages(plan, python_version, log):
    """Each azureml-* requirement exists for ``python_version`` (downloaded without its
    dependencies into a cache, so each is fetched once); EnvironmentBuildError when one does not."""
    if not plan.runtime_packages:
        return
    target = _runtime_cache(python_version)
    target.mkdir(parents=True, exist_ok=True)
    request = json.dumps([sorted(plan.runtime_packages), list(plan.pip_options), python_version])
    marker = target / f"{hashlib.sha256(request.encode()).hexdigest()[:24]}.ok"
    if marker.exists():
        return
    base = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
            "--no-deps", "--only-binary=:all:", "--python-version", python_version, "--dest", str(target)]
    found = subprocess.run([*base, "--no-index", "--find-links", str(target), *plan.runtime_packages],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if found.returncode != 0:
        log.write(f"Checking Azure ML's runtime packages {', '.join(plan.runtime_packages)} for Python "
                  f"{python_version}\n")
        found = subprocess.run([*base, *split_pip_options(plan.pip_options), *plan.runtime_packages],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
        log.write(found.stdout + found.stderr)
    if found.returncode != 0:
        raise EnvironmentBuildError(f"{', '.join(plan.runtime_packages)} cannot be installed on Python "
                                    f"{python_version}")
    marker.touch()


def _conda_only(requirement, python_version, log):
    """Whether PyPI has no project of that name (a conda-only package): checked once, cached."""
    name = canonical_name(requirement)
    known = _runtime_cache(python_version) / "pypi-names.json"
    try:
        names = json.loads(known.read_text())
    except (OSError, ValueError):
        names = {}
    if name not in names:
        probe = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "--disable-pip-version-check",
                                name], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        names[name] = probe.returncode == 0
        known.parent.mkdir(parents=True, exist_ok=True)
        known.write_text(json.dumps(names))
    return not names[name]


def build_image(plan, log, should_stop, default_python):
    """The interpreter the job runs with once its image is ready. Raises EnvironmentBuildError
    (Azure's image build failure), FakeLimit or PreparationCanceled."""
    if plan.user_managed:
        log.write("User-managed environment: no image build; the job runs with the base image's Python.\n")
        return default_python
    version = plan.python_version or "%d.%d" % sys.version_info[:2]
    _check_runtime_packages(plan, version, log)
    packages = list(plan.pip_packages)
    for conda, pip in zip(plan.conda_packages, packages[:len(plan.conda_packages)]):
        if _conda_only(pip, version, log):
            log.write(f"Conda package {conda}: PyPI has no {canonical_name(pip)}; Azure installs it with conda, "
                      "the fake (no conda offline) goes on without it.\n")
            packages.remove(pip)
    here = this_interpreter()
    interpreter = here if version.split(".")[:2] == here.version.split(".")[:2] else host_interpreter(version, find_uv())
    if interpreter is not None:
        spec = EnvironmentSpec(name=plan.name, python_version=version, pip_packages=tuple(packages),
                               pip_options=plan.pip_options)
        return virtualenv(spec, log, should_stop, PythonChoice(interpreter, version))[0]
    # Azure would install Python <version> with conda: check the packages resolve for it, then
    # run the job with this machine's Python, saying so.
    if packages and not download_wheels(packages, plan.pip_options, version, log)[1]:
        raise EnvironmentBuildError(f"the packages do not resolve for Python {version}")
    host = "%d.%d" % sys.version_info[:2]
    log.write(f"This machine has no Python {version}: its packages resolve for it, and the fake runs the job "
              f"with Python {host} (Azure ML runs it with {version}).\n")
    spec = EnvironmentSpec(name=plan.name, python_version=host, pip_packages=tuple(packages),
                           pip_options=plan.pip_options)
    try:
        return virtualenv(spec, log, should_stop, PythonChoice(this_interpreter(), host))[0]
    except EnvironmentBuildError as err:
        raise FakeLimit(f"The environment {plan.name!r} asks for Python {version}; its packages resolve for Python "
                        f"{version} (Azure ML would build it) but do not install on Python {host}, the only one the "
                        f"fake has ({err}). Install python{version} on this machine (on PATH, or with pyenv).") from err


class ImageBuild:
    """One run's Preparing, in a thread: ``outcome()`` is None while it builds, then
    ("ready", python) or ("failed", Azure's error dict)."""

    def __init__(self, environment, log_path, should_stop, default_python):
        self.plan = plan_image(environment)
        self.log_path = Path(log_path)
        self.should_stop = should_stop
        self.default_python = default_python
        self._outcome = None
        self._thread = threading.Thread(target=self._run, name=f"fake-image-{self.plan.name}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def outcome(self):
        return None if self._thread.is_alive() else self._outcome

    def wait(self, seconds):
        self._thread.join(seconds)
        return self.outcome()

    def _header(self):
        plan = self.plan
        lines = [f"{utc(time.time())} Building the image of environment {plan.name!r} on the fake AmlCompute node "
                 f"(Python {plan.python_version or 'of the base image'})",
                 f"conda packages: {', '.join(plan.conda_packages) or '(none)'}; pip packages: "
                 f"{', '.join(plan.pip_packages[len(plan.conda_packages):]) or '(none)'}"]
        if plan.runtime_packages:
            lines.append(f"Azure ML runtime packages {', '.join(plan.runtime_packages)}: checked to exist, not "
                         "installed (the job gets amlocal's azureml.core.run shim)")
        return "\n".join(lines) + "\n"

    def _run(self):
        log = _Log(self.log_path, self._header())
        try:
            python = build_image(self.plan, log, self.should_stop, self.default_python)
            self._outcome = ("ready", python)
        except PreparationCanceled:
            self._outcome = ("canceled", None)
        except FakeLimit as limit:
            log.write(f"{limit}\n")
            self._outcome = ("failed", {"code": "UserError", "message": str(limit)})
        except EnvironmentBuildError as err:
            log.write(f"Image build failed: {err}\n")
            self._outcome = ("failed", image_build_error())
        except Exception as err:  # noqa: BLE001 - a fake's own failure must end the run, not hang it
            log.write(f"The fake's image build broke: {type(err).__name__}: {err}\n")
            self._outcome = ("failed", {"code": "ServiceError", "message": f"Image build failed: {err}"})
        finally:
            log.close()
