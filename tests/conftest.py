"""Fixtures shared by every test: an isolated workspace per test, one shared environment cache,
and the Docker engine for the tests that claim container behaviour (never mocked)."""

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Built venvs and downloaded wheels are reused across tests and sessions (images are the engine's).
os.environ.setdefault("AMLOCAL_CACHE", str(Path.home() / ".cache" / "amlocal-test"))


def write_config(directory, name="test-ws", **extra):
    config = {"subscription_id": "sub", "resource_group": "rg", "workspace_name": name, **extra}
    (Path(directory) / "config.json").write_text(json.dumps(config))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user's project directory, as in the Azure ML article: config.json, ./sklearn-iris with
    train_iris.py, ./data/iris/iris.csv; the workspace lives in its own AMLOCAL_HOME."""
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AMLOCAL_BACKEND", raising=False)
    directory = tmp_path / "project"
    (directory / "sklearn-iris").mkdir(parents=True)
    shutil.copy(REPO / "train_iris.py", directory / "sklearn-iris")
    shutil.copytree(REPO / "examples" / "iris" / "data", directory / "data")
    write_config(directory)
    monkeypatch.chdir(directory)
    return directory


def _docker_error():
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return None
    except Exception as err:
        return err


@pytest.fixture(scope="session")
def docker_engine():
    error = _docker_error()
    if error is not None:
        message = f"no Docker engine answers ({error}); `make test` starts one"
        if os.environ.get("AMLOCAL_REQUIRE_DOCKER") == "1":
            pytest.fail(message + " — AMLOCAL_REQUIRE_DOCKER=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    import docker

    return docker.from_env()


@pytest.fixture(scope="session")
def base_image(docker_engine):
    """The base image every container test shares (AMLOCAL_BASE_IMAGE, set by `make test`)."""
    import docker

    for name in filter(None, [os.environ.get("AMLOCAL_BASE_IMAGE"), "python:3.11-slim", "amlocal-base:bookworm"]):
        try:
            docker_engine.images.get(name)
        except docker.errors.ImageNotFound:
            continue
        os.environ["AMLOCAL_BASE_IMAGE"] = name
        return name
    message = "no base image (python:3.11-slim or amlocal-base:bookworm); `make base-image` builds one"
    if os.environ.get("AMLOCAL_REQUIRE_DOCKER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
