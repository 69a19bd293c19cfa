"""Preparing on the Azure fake builds the job's environment as an AmlCompute image would hold it,
with the process backend's builder: a bad pin or a Python version clash fails the run there, with
Azure's error and its image build log, and the script runs with that environment's Python.
These tests install packages from the package index (the registry; outside the network guard)."""

import io
import json
import sys
import textwrap
from contextlib import redirect_stdout

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig
from amlocal.exceptions import ActivityFailedException
from amlocal.local import cache_dir
from amlocal_azureml._fake_image import IMAGE_BUILD_LOG, conda_to_pip, image_build_error, plan_image
from amlocal_azureml.translate import to_environment

pytestmark = pytest.mark.slow

REPORT = """
    import importlib.util, json, sys
    found = {name: importlib.util.find_spec(name) is not None for name in ("joblib", "sklearn", "azureml.core.workspace")}
    import joblib
    print(json.dumps({"python": sys.executable, "version": "%d.%d" % sys.version_info[:2],
                      "joblib": joblib.__version__, "found": found}), flush=True)
"""


def environment(name, pip=(), conda=(), user_managed=False):
    env = Environment(name)
    for package in pip:
        env.python.conda_dependencies.add_pip_package(package)
    for package in conda:
        env.python.conda_dependencies.add_conda_package(package)
    env.python.user_managed_dependencies = user_managed
    return env


def run_with(ws, project, env, body=REPORT, name="job"):
    folder = project / name
    folder.mkdir(exist_ok=True)
    (folder / "job.py").write_text(textwrap.dedent(body))
    config = ScriptRunConfig(source_directory=str(folder), script="job.py", environment=env)
    return Experiment(ws, name).submit(config)


def finished(run, show_output=False):
    out = io.StringIO()
    with redirect_stdout(out):
        details = run.wait_for_completion(show_output=show_output, raise_on_error=False)
    return details, out.getvalue()


def report(run):
    log = run._history.read_log(run.id, "azureml-logs/70_driver_log.txt", final=True)[0]
    return json.loads(next(line for line in log.splitlines() if line.startswith("{")))


def build_log(ws, run):
    return ws.run_history.read_log(run.id, IMAGE_BUILD_LOG, final=True)[0]


def statuses(ws, run):
    return [status for status, _ in ws.run_history.status_timeline(run.id)]


def test_a_pin_that_does_not_exist_fails_in_preparing_as_on_azure(ws, project):
    run = run_with(ws, project, environment("bad-pin", pip=["joblib==0.0.1"]))
    details, printed = finished(run, show_output=True)
    assert details["status"] == "Failed"
    assert statuses(ws, run) == ["NotStarted", "Starting", "Preparing", "Failed"]
    error = details["error"]
    assert error["error"] == image_build_error()
    assert error["message"] == "Image build failed. For more details, check log file azureml-logs/20_image_build_log.txt."
    assert run.get_file_names() == [IMAGE_BUILD_LOG]  # the script never ran
    assert "No matching distribution found for joblib==0.0.1" in build_log(ws, run)
    assert f"Streaming {IMAGE_BUILD_LOG}" in printed and "joblib==0.0.1" in printed
    with pytest.raises(ActivityFailedException, match="Image build failed"), redirect_stdout(io.StringIO()):
        run.wait_for_completion()


def test_a_pin_that_does_not_support_the_python_version_fails(ws, project):
    # dataclasses 0.8 requires Python < 3.7; the run's conda specification asks for python=3.11
    run = run_with(ws, project, environment("python-clash", pip=["dataclasses==0.8"]))
    details, _ = finished(run)
    assert details["status"] == "Failed" and details["error"]["error"] == image_build_error()
    log = build_log(ws, run)
    assert "(Python 3.11)" in log and "Requires-Python" in log


def test_the_script_runs_with_the_environments_python_and_packages_only(ws, project):
    env = environment("pinned-joblib", pip=["joblib==1.3.2"])
    run = run_with(ws, project, env)
    details, _ = finished(run)
    assert details["status"] == "Completed", details.get("error")
    seen = report(run)
    assert seen["python"].startswith(str(cache_dir() / "venvs")) and seen["python"] != sys.executable
    assert seen["version"] == "3.11" and seen["joblib"] == "1.3.2"
    # not the host's packages; and azureml-defaults was checked, not installed: the shim serves the script
    assert seen["found"] == {"joblib": True, "sklearn": False, "azureml.core.workspace": False}
    assert statuses(ws, run) == ["NotStarted", "Starting", "Preparing", "Queued", "Running", "Finalizing", "Completed"]
    again = run_with(ws, project, env, name="again")
    assert finished(again)[0]["status"] == "Completed"
    assert IMAGE_BUILD_LOG not in again.get_file_names()  # as on Azure: a cached image has no build log


def test_a_bad_pin_of_azureml_defaults_fails_as_on_azure(ws, project):
    run = run_with(ws, project, environment("bad-defaults", pip=["azureml-defaults==0.0.1"]))
    details, _ = finished(run)
    assert details["status"] == "Failed" and details["error"]["error"] == image_build_error()
    assert "azureml-defaults==0.0.1" in build_log(ws, run)


def test_conda_packages_are_installed_with_their_conda_pins(ws, project):
    run = run_with(ws, project, environment("conda-joblib", conda=["joblib=1.3"]))
    details, _ = finished(run)
    assert details["status"] == "Completed", details.get("error")
    assert report(run)["joblib"].startswith("1.3.")


def test_a_conda_only_package_is_left_to_azure_with_a_note(ws, project):
    run = run_with(ws, project, environment("conda-only", pip=["joblib"], conda=["libgomp"]),
                   body="print('ran', flush=True)\n")
    details, _ = finished(run)
    assert details["status"] == "Completed", details.get("error")
    assert "Conda package libgomp: PyPI has no libgomp" in build_log(ws, run)


def test_a_user_managed_environment_runs_with_the_base_images_python(ws, fake, project):
    run = run_with(ws, project, environment("user-managed", pip=["joblib==0.0.1"], user_managed=True))
    details, _ = finished(run)
    assert details["status"] == "Completed", details.get("error")
    assert report(run)["python"] == fake.python
    assert "User-managed environment: no image build" in build_log(ws, run)


@pytest.mark.parametrize("conda, pip", [("numpy", "numpy"), ("numpy=1.26", "numpy==1.26.*"),
                                        ("numpy=1.26.4", "numpy==1.26.4"), ("numpy==1.26.4", "numpy==1.26.4"),
                                        ("numpy>=1.26", "numpy>=1.26"), ("conda-forge::numpy=1.26", "numpy==1.26.*"),
                                        ("numpy 1.26", "numpy==1.26.*"), ("python=3.11", None), ("pip", None)])
def test_conda_specs_become_pip_requirements(conda, pip):
    assert conda_to_pip(conda) == pip


def test_the_plan_of_an_amlocal_environment_is_azures_conda_specification():
    env = environment("plan", pip=["joblib==1.3.2", "azureml-defaults==1.60.0"], conda=["numpy=1.26"])
    plan = plan_image(to_environment(env._spec()))
    assert plan.python_version == "3.11"
    assert plan.pip_packages == ("numpy==1.26.*", "joblib==1.3.2")
    assert plan.runtime_packages == ("azureml-defaults==1.60.0",)
    assert plan.conda_packages == ("numpy=1.26",) and not plan.user_managed
