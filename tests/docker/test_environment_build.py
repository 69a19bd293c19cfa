"""Environment images, built on the real engine: uv from the host, bytecode from the store,
progress in the build log, labelled build containers, cancel, pip when uv cannot run, and the
sample notebook's curated environment on this machine's base image, offline once cached."""

import io
import os
import stat
import textwrap
import uuid

import pytest
from support import wait_until

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.local import PreparationCanceled, find_uv
from amlocal.specs import EnvironmentSpec
from amlocal_docker import image as image_module
from amlocal_docker.engine import connect_api
from amlocal_docker.image import BUILD_LABEL, EnvironmentImage

pytestmark = pytest.mark.docker
HOME_LABEL = "amlocal.test.fastbuild"
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"  # nothing listens on the discard port: refused at once


@pytest.fixture(scope="module")
def private_base(docker_engine, base_image):
    """A copy of the base image that differs by a label only: its own image id, hence its own
    environment images, which this module removes at the end without touching anyone else's."""
    tag = f"amlocal-test/fastbuild-base:{uuid.uuid4().hex[:8]}"
    docker_engine.images.build(fileobj=io.BytesIO(f"FROM {base_image}\nLABEL amlocal.test.copy=1\n".encode()),
                               tag=tag, rm=True)
    yield tag
    for built in docker_engine.images.list(filters={"label": f"amlocal.base_image={tag}"}):
        docker_engine.images.remove(built.id, force=True)
    docker_engine.images.remove(tag, force=True)


class WatchedLog(io.StringIO):
    """A build log that calls ``on_line(text so far)`` after each write."""

    def __init__(self, on_line=None):
        super().__init__()
        self.on_line = on_line

    def write(self, text):
        written = super().write(text)
        if self.on_line:
            self.on_line(self.getvalue())
        return written


def build_containers(docker_engine, run_label):
    """The build containers of this label, as the engine lists them (no inspect: one may go meanwhile)."""
    return docker_engine.api.containers(all=True, filters={"label": [BUILD_LABEL, f"{HOME_LABEL}={run_label}"]})


def environment_image(spec, run_label):
    return EnvironmentImage(spec, connect_api(), labels={HOME_LABEL: run_label})


def test_a_cold_build_logs_each_step_labels_its_container_and_restores_bytecode(private_base, docker_engine):
    if find_uv() is None:
        pytest.skip("uv is not installed (pip install 'amlocal[uv]')")
    label, seen = uuid.uuid4().hex, {}

    def look_while_installing(text):
        if "Installing" in text and "containers" not in seen:
            seen["containers"] = build_containers(docker_engine, label)

    log = WatchedLog(look_while_installing)
    spec = EnvironmentSpec(name="joblib", base_image=private_base, pip_packages=("joblib",))
    prepared = environment_image(spec, label).prepare(log)
    text = log.getvalue()
    for step in ("Starting the build container (uv, Python 3.", "(uv venv)", "with uv from the wheel cache (no index)",
                 "Bytecode: from the bytecode store (one tar)", "(docker commit)", "ready in"):
        assert step in text, f"{step!r} missing from the build log:\n{text}"
    assert len(seen["containers"]) == 1 and seen["containers"][0]["Labels"][HOME_LABEL] == label
    wait_until(lambda: not build_containers(docker_engine, label), 30, "the build container to be removed")
    output = docker_engine.containers.run(prepared["image"], ["python", "-v", "-c", "import joblib"], user="65534",
                                          network_disabled=True, remove=True, stdout=False, stderr=True).decode()
    assert "joblib/__pycache__/__init__.cpython" in output and " matches " in output
    assert "warnings" not in prepared
    again = WatchedLog()
    assert environment_image(spec, label).prepare(again) == prepared and again.getvalue() == ""


def test_when_uv_cannot_run_in_the_image_the_build_uses_pip(private_base, docker_engine, monkeypatch, tmp_path):
    broken = tmp_path / "uv"
    broken.write_text("#!/bin/sh\nexit 1\n")  # as a uv for another architecture or C library fails
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(image_module, "find_uv", lambda: str(broken))
    log = WatchedLog()
    spec = EnvironmentSpec(name="threadpoolctl", base_image=private_base, pip_packages=("threadpoolctl",))
    prepared = environment_image(spec, uuid.uuid4().hex).prepare(log)
    assert "uv does not run in this image" in log.getvalue() and "with pip from the wheel cache" in log.getvalue()
    output = docker_engine.containers.run(prepared["image"], ["python", "-c", "import threadpoolctl; print('ok')"],
                                          remove=True).decode()
    assert output.strip() == "ok"


def test_canceling_a_build_removes_its_container_and_makes_no_image(private_base, docker_engine):
    def images():
        return {i.id for i in docker_engine.images.list(filters={"label": f"amlocal.base_image={private_base}"})}

    label, before = uuid.uuid4().hex, images()
    log = WatchedLog()
    spec = EnvironmentSpec(name="cloudpickle", base_image=private_base, pip_packages=("cloudpickle",))
    with pytest.raises(PreparationCanceled):
        environment_image(spec, label).prepare(log, lambda: "Starting the build container" in log.getvalue())
    wait_until(lambda: not build_containers(docker_engine, label), 30, "the canceled build container to be removed")
    assert images() == before and "ready in" not in log.getvalue()


SKLEARN_SCRIPT = textwrap.dedent("""
    import sys
    import sklearn
    from sklearn import datasets, svm
    X, y = datasets.load_iris(return_X_y=True)
    print("accuracy", svm.SVC().fit(X, y).score(X, y))
    print("python", sys.version.split()[0], "sklearn", sklearn.__version__)
    """)


@pytest.mark.slow
def test_the_curated_sklearn_environment_runs_here_and_rebuilds_offline(project, private_base, monkeypatch):
    """``Environment.get(ws, name="AzureML-sklearn-1.5")`` (Python 3.10, numpy~=1.22.0) on a base
    image with Python 3.11: built with 3.11, numpy moved to a release with a wheel, the run says
    so; then, with every package index unreachable, built again from the caches alone."""
    monkeypatch.setenv("AMLOCAL_BASE_IMAGE", private_base)
    (project / "check").mkdir()
    (project / "check" / "check_sklearn.py").write_text(SKLEARN_SCRIPT)

    def run_once():
        ws = Workspace.from_config(backend="docker")
        environment = Environment.get(ws, name="AzureML-sklearn-1.5")
        config = ScriptRunConfig(source_directory="check", script="check_sklearn.py", environment=environment)
        run = Experiment(ws, "curated").submit(config)
        details = run.wait_for_completion(raise_on_error=False)
        logs = run.get_details_with_logs()["logFiles"]
        assert details["status"] == "Completed", logs
        return logs

    logs = run_once()
    driver, control = logs["azureml-logs/70_driver_log.txt"], logs["azureml-logs/60_control_log.txt"]
    assert "sklearn 1.5." in driver and "accuracy" in driver
    assert "Environment: The environment asks for Python 3.10" in control
    assert "numpy~=1.22.0 -> numpy==1.23." in control
    assert "Bytecode:" in logs["azureml-logs/20_image_build_log.txt"]

    for variable in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):  # another index: another image, built offline
        monkeypatch.setenv(variable, UNREACHABLE_INDEX)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    logs = run_once()
    build = logs["azureml-logs/20_image_build_log.txt"]
    assert "are in the wheel cache" in build and "from the wheel cache (no index)" in build
    assert "pip download" not in build and "sklearn 1.5." in logs["azureml-logs/70_driver_log.txt"]
    assert os.environ["PIP_INDEX_URL"] == UNREACHABLE_INDEX
