"""Which backend a workspace uses: backend= > AMLOCAL_BACKEND > config.json "backend" >
docker, and docker falls back to process only when nobody asked for docker."""

import time
import pytest

from amlocal.core import Experiment, ScriptRunConfig, Workspace
from amlocal.exceptions import BackendUnavailableError, UnknownBackendError
from amlocal_docker import LocalDockerBackend

from .conftest import write_config

NO_ENGINE = "unix:///tmp/nonexistent.sock"


@pytest.fixture
def no_docker_engine(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.setattr(LocalDockerBackend, "_availability", {})


@pytest.fixture
def docker_engine_answers(monkeypatch):
    """Pretend an engine answers at DOCKER_HOST, without talking to one."""
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.setattr(LocalDockerBackend, "_availability", {NO_ENGINE: (True, time.monotonic())})


def test_argument_beats_environment_and_config(project, monkeypatch, docker_engine_answers):
    write_config(project, backend="docker")
    monkeypatch.setenv("AMLOCAL_BACKEND", "docker")

    assert Workspace.from_config(backend="process").backend_name == "process"


def test_environment_beats_config(project, monkeypatch, docker_engine_answers):
    write_config(project, backend="docker")
    monkeypatch.setenv("AMLOCAL_BACKEND", "process")

    assert Workspace.from_config().backend_name == "process"


def test_config_beats_default(project, docker_engine_answers):
    write_config(project, backend="process")

    assert Workspace.from_config().backend_name == "process"


def test_default_is_docker_when_an_engine_answers(project, docker_engine_answers, capsys):
    write_config(project)

    assert Workspace.from_config().backend_name == "docker"
    assert capsys.readouterr().err == ""


def test_default_falls_back_to_process_when_no_engine_answers(project, no_docker_engine, capsys):
    write_config(project)
    ws = Workspace.from_config()

    assert ws.backend_name == "process"
    assert ws.backend_name == "process"
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err_lines) == 1
    assert "Docker" in err_lines[0] and "process" in err_lines[0]
    assert type(ws.backend).name == "process"


def test_explicit_docker_does_not_fall_back(project, monkeypatch, no_docker_engine, capsys):
    write_config(project)
    monkeypatch.setenv("AMLOCAL_BACKEND", "docker")
    ws = Workspace.from_config()

    assert ws.backend_name == "docker"
    assert capsys.readouterr().err == ""


def test_submit_with_docker_chosen_and_no_engine_says_what_to_do(project, monkeypatch, no_docker_engine):
    write_config(project)
    monkeypatch.setenv("AMLOCAL_BACKEND", "docker")
    (project / "train.py").write_text("print('hi')\n")
    exp = Experiment(Workspace.from_config(), "docker-exp")

    with pytest.raises(BackendUnavailableError) as caught:
        exp.submit(ScriptRunConfig(source_directory=".", script="train.py"))

    message = str(caught.value)
    assert NO_ENGINE in message
    assert "dockerd" in message or "systemctl start docker" in message
    assert "AMLOCAL_BACKEND=process" in message
    assert list(exp.get_runs()) == []  # nothing half-recorded


@pytest.mark.parametrize("where", ["argument", "environment", "config"])
def test_unknown_backend_lists_the_known_ones(project, monkeypatch, where):
    write_config(project, **({"backend": "kubernetes"} if where == "config" else {}))
    if where == "environment":
        monkeypatch.setenv("AMLOCAL_BACKEND", "kubernetes")

    with pytest.raises(UnknownBackendError) as caught:
        Workspace.from_config(backend="kubernetes" if where == "argument" else None)

    message = str(caught.value)
    assert "'kubernetes'" in message
    for known in ("docker", "process", "azureml"):
        assert known in message
    assert caught.value.name == "kubernetes"
