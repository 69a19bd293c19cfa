"""Environment images, built on the real engine: uv from the host, bytecode from the store,
progress in the build log, labelled build containers, cancel, pip when uv cannot run, and the
sample notebook's curated environment on this machine's base image, offline once cached."""

import io
import os
import stat
import subprocess
import sys
import textwrap
import uuid

import pytest
from support import wait_until

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.local import PreparationCanceled, find_uv
from amlocal.specs import EnvironmentSpec
from amlocal_docker import image as image_module
from amlocal_docker.engine import connect_api
from amlocal_docker.image import (BUILD_LABEL, ENV_PREFIX, EnvironmentImage, environments_root, read_environment,
                                  remove_environment)

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
    for key in [key for key in _environment_keys() if (read_environment(key) or {}).get("base_image") == tag]:
        remove_environment(key)
    docker_engine.images.remove(tag, force=True)


def _environment_keys():
    root = environments_root()
    return [path.stem for path in root.glob("*.json")] if root.is_dir() else []


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


def run_in(docker_engine, prepared, command, **options):
    """``docker run`` of ``command`` in a prepared environment (its image, mounts and variables)."""
    volumes = {m["Source"]: {"bind": m["Target"], "mode": "ro" if m["ReadOnly"] else "rw"}
               for m in prepared.get("mounts") or []}
    return docker_engine.containers.run(prepared["image"], command, volumes=volumes,
                                        environment=prepared.get("env") or {}, **options)


def environment_directories(prepared):
    return [m["Source"] for m in prepared.get("mounts") or [] if m["Target"] == ENV_PREFIX]


def test_a_cold_build_logs_each_step_labels_its_container_and_restores_bytecode(private_base, docker_engine):
    if find_uv() is None:
        pytest.skip("uv is not installed (pip install 'amlocal[uv]')")
    label, seen = uuid.uuid4().hex, {}

    def look_while_installing(text):
        if "Installing" in text and "containers" not in seen:
            seen["containers"] = build_containers(docker_engine, label)
            seen["host_config"] = docker_engine.api.inspect_container(seen["containers"][0]["Id"])["HostConfig"]

    log = WatchedLog(look_while_installing)
    spec = EnvironmentSpec(name="joblib", base_image=private_base, pip_packages=("joblib",))
    prepared = environment_image(spec, label).prepare(log)
    text = log.getvalue()
    for step in ("Starting the build container (uv, Python 3.", "(uv venv)", "with uv from the wheel cache (no index)",
                 "Bytecode: from the bytecode store (one tar)", "ready in"):
        assert step in text, f"{step!r} missing from the build log:\n{text}"
    assert "hardlink" not in text, text  # uv's scratch cache shares the environment's filesystem
    assert len(seen["containers"]) == 1 and seen["containers"][0]["Labels"][HOME_LABEL] == label
    assert seen["host_config"]["CapDrop"] == ["ALL"] and "no-new-privileges:true" in seen["host_config"]["SecurityOpt"]
    wait_until(lambda: not build_containers(docker_engine, label), 30, "the build container to be removed")
    output = run_in(docker_engine, prepared, ["python", "-v", "-c", "import joblib"], user="65534",
                    network_disabled=True, remove=True, stdout=False, stderr=True).decode()
    assert "joblib/__pycache__/__init__.cpython" in output and " matches " in output
    assert "warnings" not in prepared
    again = WatchedLog()
    assert environment_image(spec, label).prepare(again) == prepared and again.getvalue() == ""


def test_a_pip_environment_is_a_host_directory_the_job_mounts_read_only(private_base, docker_engine):
    """No image is committed for pip packages: the virtualenv is a host directory, the host
    user's (so they can remove it), that every run mounts read-only."""
    def images():
        return {i.id for i in docker_engine.images.list(filters={"label": f"amlocal.base_image={private_base}"})}

    before = images()
    spec = EnvironmentSpec(name="joblib-only", base_image=private_base, pip_packages=("joblib", "threadpoolctl"))
    prepared = environment_image(spec, uuid.uuid4().hex).prepare(WatchedLog())
    assert images() == before
    [directory] = environment_directories(prepared)
    assert os.path.dirname(directory) == str(environments_root()) and os.path.isdir(directory)
    assert os.lstat(os.path.join(directory, "pyvenv.cfg")).st_uid == os.getuid()
    assert not os.path.lexists(os.path.join(directory, ".amlocal-uv-cache"))  # the install's scratch cache
    script = ("import sys, joblib, threadpoolctl\nprint(sys.prefix)\n"
              "try:\n    open(joblib.__file__, 'a')\nexcept OSError as err:\n    print('read-only', err.errno)\n")
    output = run_in(docker_engine, prepared, ["python", "-c", script], user="0", remove=True).decode().split()
    assert output == [ENV_PREFIX, "read-only", "30"], output  # EROFS: not even root in the container writes


def test_when_uv_cannot_run_in_the_image_the_build_uses_pip(private_base, docker_engine, monkeypatch, tmp_path):
    broken = tmp_path / "uv"
    broken.write_text("#!/bin/sh\nexit 1\n")  # as a uv for another architecture or C library fails
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(image_module, "find_uv", lambda: str(broken))
    log = WatchedLog()
    spec = EnvironmentSpec(name="threadpoolctl", base_image=private_base, pip_packages=("threadpoolctl",))
    prepared = environment_image(spec, uuid.uuid4().hex).prepare(log)
    assert "uv does not run in this image" in log.getvalue() and "with pip from the wheel cache" in log.getvalue()
    output = run_in(docker_engine, prepared, ["python", "-c", "import threadpoolctl; print('ok')"],
                    remove=True).decode()
    assert output.strip() == "ok"


def test_canceling_a_build_removes_its_container_and_leaves_no_environment(private_base, docker_engine):
    def images():
        return {i.id for i in docker_engine.images.list(filters={"label": f"amlocal.base_image={private_base}"})}

    def environments():
        return set(os.listdir(environments_root())) if environments_root().is_dir() else set()

    label, before, environments_before = uuid.uuid4().hex, images(), environments()
    log = WatchedLog()
    spec = EnvironmentSpec(name="cloudpickle", base_image=private_base, pip_packages=("cloudpickle",))
    with pytest.raises(PreparationCanceled):
        environment_image(spec, label).prepare(log, lambda: "Starting the build container" in log.getvalue())
    wait_until(lambda: not build_containers(docker_engine, label), 30, "the canceled build container to be removed")
    assert images() == before and "ready in" not in log.getvalue()
    assert environments() == environments_before  # neither the half-built directory nor its metadata


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


def test_gc_images_frees_mounted_environments_no_container_has_and_leftover_builds(
        project, base_image, docker_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))  # never the shared cache of other tests
    root = environments_root()
    for key in ("kept0000", "free0000"):
        (root / key / "bin").mkdir(parents=True)
        (root / f"{key}.json").write_text('{"python": "3.11", "warnings": []}')
    (root / ".building-half0000-x1y2").mkdir()  # a build that died half-way
    mounting = docker_engine.containers.create(  # created, never started: it may start, so it keeps its environment
        base_image, ["true"], labels={HOME_LABEL: "gc-test"},
        volumes={str(root / "kept0000"): {"bind": ENV_PREFIX, "mode": "ro"}})
    try:
        result = subprocess.run([sys.executable, "-m", "amlocal.cli", "--backend", "docker", "gc", "--images",
                                 "--older-than", "0s"], capture_output=True, text=True, timeout=120)
    finally:
        mounting.remove(force=True)
    assert result.returncode == 0, result.stderr
    assert f"freed environment: {root / 'free0000'}" in result.stdout, result.stdout
    assert f"freed leftover environment build: {root / '.building-half0000-x1y2'}" in result.stdout, result.stdout
    assert sorted(os.listdir(root)) == ["kept0000", "kept0000.json"]
