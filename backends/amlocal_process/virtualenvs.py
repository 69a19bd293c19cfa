"""Cached virtualenvs built from an EnvironmentSpec's pip packages: the process backend's
environments, and the "image" of a run in the azureml backend's fake (``amlocal_azureml.fake``).

``virtualenv(environment, build_log, should_stop, python)`` returns the path of a ready
interpreter: a cache hit costs one ``stat``; a miss creates the venv with ``python -m venv``
and fills it from the host-side wheel cache (``amlocal.local.download_wheels``), falling back
to the package index when a package has no wheel. A failed install raises EnvironmentBuildError
(the log holds pip's output); ``should_stop()`` turning true raises PreparationCanceled.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from amlocal.exceptions import EnvironmentBuildError
from amlocal.local import (PreparationCanceled, build_lock, cache_dir, download_wheels, environment_key, pip_settings,
                           ready_marker, run_logged, split_pip_options)


def interpreter_version(python=None):
    """"3.11.7" of ``python`` (default: this interpreter)."""
    if python in (None, sys.executable):
        return "%d.%d.%d" % sys.version_info[:3]
    out = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise EnvironmentBuildError(f"Python interpreter {python} does not run: {out.stderr.strip()[-300:]}")
    return out.stdout.strip()


def find_interpreter(major_minor):
    """An interpreter of Python ``major_minor`` ("3.10") on this machine: this one, else
    ``python3.10`` on PATH, else one installed by pyenv; None when there is none."""
    if "%d.%d" % sys.version_info[:2] == major_minor:
        return sys.executable
    candidates = [shutil.which(f"python{major_minor}")]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{major_minor}.*/bin/python{major_minor}"))
    for candidate in filter(None, candidates):
        try:
            if interpreter_version(candidate).startswith(major_minor + "."):
                return candidate
        except (EnvironmentBuildError, OSError, subprocess.TimeoutExpired):
            continue  # a shim that does not run, a broken install
    return None


def virtualenv(environment, build_log, should_stop, python=None):
    """(path of the venv's python, whether it was built now) for ``environment``'s pip packages
    and options on interpreter ``python`` (default: this one)."""
    python = python or sys.executable
    version = interpreter_version(python)
    key = environment_key(environment, f"host-python:{python}:{version}", pip_settings())
    venv = cache_dir() / "venvs" / key[:24]
    if ready_marker(venv).exists():
        return str(venv / "bin" / "python"), False
    with build_lock(f"venv-{key[:24]}"):
        if ready_marker(venv).exists():
            return str(venv / "bin" / "python"), False
        _build(venv, environment, python, version, build_log, should_stop)
    return str(venv / "bin" / "python"), True


def _build(venv, environment, python, python_version, log, should_stop):
    started = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    log.write(f"Building virtual environment {venv.name} (Python {python_version})\n")
    code = run_logged([python, "-m", "venv", "--without-pip", str(venv)], log)
    pip_packages = list(environment.pip_packages)
    if code == 0 and pip_packages:
        wheels, ok = download_wheels(pip_packages, environment.pip_options, python_version, log)
        install = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                   "--disable-pip-version-check", "--progress-bar", "off"]
        if ok:
            code = run_logged([*install, "--no-index", "--find-links", str(wheels), *pip_packages], log,
                              should_stop=should_stop)
        else:
            log.write("Not every package has a wheel; installing from the package index instead\n")
            code = run_logged([*install, *split_pip_options(environment.pip_options), *pip_packages], log,
                              should_stop=should_stop)
    if code != 0:
        shutil.rmtree(venv, ignore_errors=True)
        if should_stop():
            raise PreparationCanceled()
        raise EnvironmentBuildError(f"installing {', '.join(pip_packages) or 'the environment'} failed "
                                    f"(exit code {code}); see azureml-logs/20_image_build_log.txt")
    ready_marker(venv).touch()
    log.write(f"Environment ready in {time.monotonic() - started:.1f} s\n")
