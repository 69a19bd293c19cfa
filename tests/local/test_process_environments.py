"""The process backend's virtualenvs: built with uv (or pip without it), bytecode from the store,
and a clear word when the environment asks for a Python this machine does not have."""

import io
import subprocess
import sys

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.core.conda_dependencies import CondaDependencies
from amlocal.local import PreparationCanceled, find_uv, host_interpreter
from amlocal.specs import EnvironmentSpec

ABSENT_PYTHON = "3.5"  # end-of-life long ago: on no machine these tests run on


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """An empty environment cache: every build in the test is a cold one."""
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def backend(project):
    return Workspace.from_config(backend="process").backend


def prepare(backend, spec, stop=lambda: False):
    log = io.StringIO()
    return backend.prepare_environment(spec, log, stop), log.getvalue()


def imports_from_bytecode(python, module):
    verbose = subprocess.run([python, "-v", "-c", f"import {module}"], capture_output=True, text=True)
    assert verbose.returncode == 0, verbose.stderr[-2000:]
    return f"{module}/__pycache__/__init__.cpython" in verbose.stderr and " matches " in verbose.stderr


def test_a_cold_build_installs_with_uv_and_restores_bytecode_then_is_reused(backend, cold_cache):
    if find_uv() is None:
        pytest.skip("uv is not installed (pip install 'amlocal[uv]')")
    spec = EnvironmentSpec(name="joblib-env", pip_packages=("joblib",))
    prepared, log = prepare(backend, spec)
    assert "(uv venv)" in log and "with uv from the wheel cache" in log
    assert "Bytecode store: compiled" in log and "from the bytecode store, 0 compiled" in log
    assert "warnings" not in prepared
    assert imports_from_bytecode(prepared["python"], "joblib")
    again, log = prepare(backend, spec)
    assert again == prepared and log == ""  # a cache hit writes nothing


def test_without_uv_the_same_build_runs_with_pip(backend, cold_cache, monkeypatch):
    monkeypatch.setenv("AMLOCAL_NO_UV", "1")
    prepared, log = prepare(backend, EnvironmentSpec(name="joblib-env", pip_packages=("joblib",)))
    assert "(python -m venv)" in log and "with pip from the wheel cache" in log and "with uv" not in log
    assert imports_from_bytecode(prepared["python"], "joblib")


def test_canceling_a_build_stops_it_and_leaves_no_environment(backend, cold_cache):
    log = io.StringIO()
    started_installing = lambda: "Creating the virtual environment" in log.getvalue()  # noqa: E731
    with pytest.raises(PreparationCanceled):
        backend.prepare_environment(EnvironmentSpec(name="joblib-env", pip_packages=("joblib",)), log,
                                    started_installing)
    assert "Environment ready" not in log.getvalue()
    assert not any((cold_cache / "venvs").glob("*"))


def test_a_python_the_machine_lacks_is_said_in_the_build_log_and_in_every_run(project, cold_cache):
    (project / "job").mkdir()
    (project / "job" / "which.py").write_text("import sys, joblib\nprint('python', sys.version.split()[0])\n")
    env = Environment("old-python")
    env.python.conda_dependencies = CondaDependencies.create(python_version=ABSENT_PYTHON, pip_packages=["joblib"])
    ws = Workspace.from_config(backend="process")
    config = ScriptRunConfig(source_directory="job", script="which.py", environment=env)
    for _ in range(2):  # the first run builds, the second reuses: both say it
        run = Experiment(ws, "python-version").submit(config)
        run.wait_for_completion()
        control = run.get_details_with_logs()["logFiles"]["azureml-logs/60_control_log.txt"]
        assert f"asks for Python {ABSENT_PYTHON}" in control
        assert f"built with Python {sys.version.split()[0]}" in control
        driver = run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
        assert f"python {sys.version.split()[0]}" in driver
    build_logs = [name for name in run.get_file_names() if "20_image_build_log" in name]
    assert build_logs == []  # the second run built nothing


def test_the_asked_python_is_used_when_the_machine_has_it(backend, cold_cache):
    wanted = next((v for v in ("3.10", "3.12", "3.9", "3.13") if v != "%d.%d" % sys.version_info[:2]
                   and host_interpreter(v, find_uv())), None)
    if wanted is None:
        pytest.skip("this machine has a single Python")
    prepared, log = prepare(backend, EnvironmentSpec(name="other", python_version=wanted, pip_packages=("joblib",)))
    version = subprocess.run([prepared["python"], "-c", "import sys, joblib; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
    assert version.stdout.strip() == wanted and "warnings" not in prepared
    assert f"(Python {wanted}." in log and "Note:" not in log
